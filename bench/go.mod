module github.com/bulwarkhq/bulwark/bench

go 1.26.0

require (
	github.com/bulwarkhq/bulwark v0.0.0
	github.com/pquerna/otp v1.5.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/google/uuid v1.6.0 // indirect
)

replace github.com/bulwarkhq/bulwark => ../

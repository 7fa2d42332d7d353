module github.com/bulwarkhq/bulwark/bench

go 1.26.0

require (
	github.com/bulwarkhq/bulwark v0.0.0
	golang.org/x/crypto v0.58.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/bulwarkhq/bulwark => ../

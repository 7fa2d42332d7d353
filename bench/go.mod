module github.com/bulwarkhq/bulwark/bench

go 1.26.0

require (
	github.com/alexedwards/argon2id v1.0.0
	github.com/bulwarkhq/bulwark v0.0.0
)

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/bulwarkhq/bulwark => ../

module github.com/bulwarkhq/bulwark/bench

go 1.26.0

require (
	filippo.io/age v1.3.2
	github.com/bulwarkhq/bulwark v0.0.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/bulwarkhq/bulwark => ../

module github.com/bulwarkhq/bulwark/bench

go 1.26.0

require github.com/bulwarkhq/bulwark v0.0.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/google/uuid v1.6.0 // indirect
)

replace github.com/bulwarkhq/bulwark => ../

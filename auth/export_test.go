package auth

import "time"

// Unexported names that the external tests (package auth_test) check.

const (
	DefaultResetTTL        = defaultResetTTL
	DefaultIPWindow        = defaultIPWindow
	DefaultRecentAuth      = defaultRecentAuth
	DefaultFailureFactor   = defaultFailureFactor
	DefaultWaitIncrement   = defaultWaitIncrement
	DefaultMaxWait         = defaultMaxWait
	DefaultFailureReset    = defaultFailureReset
	MaxConsecutiveFailures = maxConsecutiveFailures
	FactorPassword         = factorPassword
	ClaimUsername          = claimUsername
)

var (
	Transliterate = transliterate
	UsernameBase  = usernameBase
)

// LockState is lockState.
type LockState = lockState

// State is state.
func (p LockoutPolicy) State(c Counter, now time.Time) LockState { return p.state(c, now) }

// Wait is wait.
func (p LockoutPolicy) Wait(failures int) time.Duration { return p.wait(failures) }

package auth

import "time"

// Lockout defaults, after Keycloak's brute-force detector (failure factor,
// wait increment, maximum wait, failure reset time, permanent lockout) with
// a lower failure factor than Keycloak's 30.
const (
	// DefaultFailureFactor failures in a row start the first wait.
	DefaultFailureFactor = 5
	// DefaultWaitIncrement is added to the wait at every further
	// DefaultFailureFactor failures (Keycloak: 60 s).
	DefaultWaitIncrement = time.Minute
	// DefaultMaxWait caps a single wait (Keycloak: 15 min), so an attacker
	// cannot keep an owner out for long (ASVS 5.0 6.1.1: no malicious
	// lockout).
	DefaultMaxWait = 15 * time.Minute
	// DefaultFailureReset is the quiet period after which the failure count
	// that drives waits starts again (Keycloak: 12 h).
	DefaultFailureReset = 12 * time.Hour
	// MaxConsecutiveFailures is the hard limit of NIST SP 800-63B §5.2.2:
	// no more than 100 consecutive failed attempts on one account. At this
	// count the account is locked until a password reset or an unlock,
	// whatever the policy says.
	MaxConsecutiveFailures = 100
	// counterKeep is how long the counter of a made-up login is kept after
	// its last failure, which bounds the memory used by attempts on made-up
	// logins while outlasting every wait and reset window.
	counterKeep = 90 * 24 * time.Hour
	// accountCounterKeep is the same for a real account: in effect forever,
	// since the hard limit counts consecutive failures whatever the gaps
	// (only a success, a reset or an unlock clears it), and real accounts
	// are few enough to keep a counter each.
	accountCounterKeep = 100 * 365 * 24 * time.Hour
)

// LockoutPolicy is the per-account brute-force model. The zero value means
// the defaults above.
//
// With N = FailureFactor, the k-th block of N consecutive failures imposes a
// wait of k × WaitIncrement (at most MaxWait) after the latest failure:
// failures 1..N-1 cost nothing, failure N locks for 1 × increment, failure
// 2N for 2 × increment, and so on. Attempts during a wait are rejected
// without counting, and their passwords are hashed but never judged, so a
// lockout never reveals whether a password was right. A quiet period of
// ResetAfter forgets the failures that drive the waits.
type LockoutPolicy struct {
	FailureFactor int           // default DefaultFailureFactor
	WaitIncrement time.Duration // default DefaultWaitIncrement
	MaxWait       time.Duration // default DefaultMaxWait
	ResetAfter    time.Duration // default DefaultFailureReset

	// PermanentLockout locks the account until a password reset or
	// [Authenticator.Unlock] once the user has reached
	// MaxTemporaryLockouts+1 blocks of FailureFactor consecutive failures
	// (with MaxTemporaryLockouts 0, at the first block, as in Keycloak). Off
	// by default: a permanent lock lets anyone who knows a login keep its
	// owner out until they reset their password.
	PermanentLockout     bool
	MaxTemporaryLockouts int

	// HardLimit is the number of consecutive failures (whatever the gaps
	// between them) that locks the account until a password reset or an
	// unlock. Default, and maximum, MaxConsecutiveFailures (100); larger
	// values are lowered to it.
	HardLimit int
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	p.FailureFactor = orDefault(p.FailureFactor, DefaultFailureFactor)
	p.WaitIncrement = orDefault(p.WaitIncrement, DefaultWaitIncrement)
	p.MaxWait = orDefault(p.MaxWait, DefaultMaxWait)
	p.ResetAfter = orDefault(p.ResetAfter, DefaultFailureReset)
	p.MaxTemporaryLockouts = max(p.MaxTemporaryLockouts, 0)
	if p.HardLimit <= 0 || p.HardLimit > MaxConsecutiveFailures {
		p.HardLimit = MaxConsecutiveFailures
	}
	return p
}

// permanentAt is the consecutive count at which the lock no longer lifts by
// itself.
func (p LockoutPolicy) permanentAt() int {
	n := p.HardLimit
	if p.PermanentLockout {
		if k := p.FailureFactor * (p.MaxTemporaryLockouts + 1); k < n {
			n = k
		}
	}
	return n
}

// LockState says whether a login identifier is locked.
type LockState struct {
	Locked    bool
	Permanent bool      // until a password reset or an unlock
	Until     time.Time // end of a temporary lock
}

// State evaluates counter c at now under the policy (zero fields meaning
// defaults).
func (p LockoutPolicy) State(c Counter, now time.Time) LockState {
	p = p.withDefaults()
	if c.Consecutive >= p.permanentAt() {
		return LockState{Locked: true, Permanent: true}
	}
	if c.LastFailure.IsZero() || now.Sub(c.LastFailure) > p.ResetAfter {
		return LockState{}
	}
	wait := p.Wait(c.Failures)
	if wait > 0 && now.Before(c.LastFailure.Add(wait)) {
		return LockState{Locked: true, Until: c.LastFailure.Add(wait)}
	}
	return LockState{}
}

// Wait is the wait imposed after the failures-th failure.
func (p LockoutPolicy) Wait(failures int) time.Duration {
	p = p.withDefaults()
	blocks := failures / p.FailureFactor
	if blocks <= 0 {
		return 0
	}
	if time.Duration(blocks) >= p.MaxWait/p.WaitIncrement+1 {
		return p.MaxWait
	}
	return min(time.Duration(blocks)*p.WaitIncrement, p.MaxWait)
}

// failureParams are the counter update for one failure; known says the
// key is a real account's.
func (p LockoutPolicy) failureParams(now time.Time, known bool) FailureParams {
	p = p.withDefaults()
	keep := counterKeep
	if known {
		keep = accountCounterKeep
	}
	return FailureParams{Now: now, ResetAfter: p.ResetAfter, Keep: keep, PersistAt: p.permanentAt()}
}

package auth

import "time"

// Lockout defaults, after Keycloak's brute-force detector (failure factor,
// wait increment, maximum wait, failure reset time, permanent lockout) with
// a lower failure factor than Keycloak's 30.
const (
	defaultFailureFactor = 5
	defaultWaitIncrement = time.Minute
	defaultMaxWait       = 15 * time.Minute
	defaultFailureReset  = 12 * time.Hour
	// maxConsecutiveFailures is the hard limit of NIST SP 800-63B §5.2.2:
	// no more than 100 consecutive failed attempts on one account. At this
	// count the account is locked until a password reset or an unlock,
	// whatever the policy says.
	maxConsecutiveFailures = 100
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

// LockoutPolicy is the per-account brute-force model, after Keycloak's
// brute-force detector. The zero value means the defaults documented on
// each field; a zero or negative value means its default.
//
// With N = FailureFactor, the k-th block of N consecutive failures imposes a
// wait of k × WaitIncrement (at most MaxWait) after the latest failure:
// failures 1..N-1 cost nothing, failure N locks for 1 × increment, failure
// 2N for 2 × increment, and so on. Attempts during a wait are rejected
// without counting, and their passwords are hashed but never judged, so a
// lockout never reveals whether a password was right. A quiet period of
// ResetAfter forgets the failures that drive the waits.
type LockoutPolicy struct {
	// FailureFactor failures in a row start the first wait. Default 5,
	// lower than Keycloak's 30 (NIST SP 800-63B §5.2.2 asks for a limit,
	// ASVS 5.0 6.3.1 for protection against guessing).
	FailureFactor int
	// WaitIncrement is added to the wait at every further FailureFactor
	// failures. Default one minute (Keycloak: 60 s).
	WaitIncrement time.Duration
	// MaxWait caps a single wait. Default 15 minutes (Keycloak: 15 min), so
	// an attacker cannot keep an owner out for long (ASVS 5.0 6.1.1: no
	// malicious lockout).
	MaxWait time.Duration
	// ResetAfter is the quiet period after which the failure count that
	// drives waits starts again. Default 12 hours (Keycloak: 12 h).
	ResetAfter time.Duration

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
	// unlock. Default, and maximum, 100, the limit of NIST SP 800-63B
	// §5.2.2; larger values are lowered to it.
	HardLimit int
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	p.FailureFactor = orDefault(p.FailureFactor, defaultFailureFactor)
	p.WaitIncrement = orDefault(p.WaitIncrement, defaultWaitIncrement)
	p.MaxWait = orDefault(p.MaxWait, defaultMaxWait)
	p.ResetAfter = orDefault(p.ResetAfter, defaultFailureReset)
	p.MaxTemporaryLockouts = max(p.MaxTemporaryLockouts, 0)
	if p.HardLimit <= 0 || p.HardLimit > maxConsecutiveFailures {
		p.HardLimit = maxConsecutiveFailures
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

// lockState says whether a login identifier is locked.
type lockState struct {
	Locked    bool
	Permanent bool      // until a password reset or an unlock
	Until     time.Time // end of a temporary lock
}

// state evaluates counter c at now under the policy (zero fields meaning
// defaults).
func (p LockoutPolicy) state(c Counter, now time.Time) lockState {
	p = p.withDefaults()
	if c.Consecutive >= p.permanentAt() {
		return lockState{Locked: true, Permanent: true}
	}
	if c.LastFailure.IsZero() || now.Sub(c.LastFailure) > p.ResetAfter {
		return lockState{}
	}
	wait := p.wait(c.Failures)
	if wait > 0 && now.Before(c.LastFailure.Add(wait)) {
		return lockState{Locked: true, Until: c.LastFailure.Add(wait)}
	}
	return lockState{}
}

// wait is the wait imposed after the failures-th failure.
func (p LockoutPolicy) wait(failures int) time.Duration {
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

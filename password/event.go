package password

import "time"

// EventType names a reportable event.
type EventType string

// Events reported through the optional hooks of [Policy] and [Hasher].
const (
	// EventBreachCheckFailed: the [BreachChecker] failed; Err says why.
	EventBreachCheckFailed EventType = "password.breach_check_failed"
	// EventBreachedPassword: a password was rejected as breached.
	EventBreachedPassword EventType = "password.breached"
	// EventLegacyVerified: a bcrypt or scrypt hash matched; Algorithm names
	// it. The host should store a fresh hash ([Hasher.NeedsRehash]).
	EventLegacyVerified EventType = "password.legacy_verified"
	// EventLimitExceeded: a stored hash asked for more resources than the
	// caps allow, a sign of tampering or corruption; Algorithm names it.
	EventLimitExceeded EventType = "password.limit_exceeded"
)

// Event is passed to a hook ([Policy].Hook or [Config].Hook). It never
// carries a password, pepper, salt or hash.
type Event struct {
	Type      EventType
	Time      time.Time // from the Policy's or Config's Now, in UTC
	Algorithm string    // "argon2id", "argon2id-onion", "bcrypt", "scrypt", or empty
	Err       error     // cause, for failures
}

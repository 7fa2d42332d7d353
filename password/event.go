package password

// EventKind names a reportable event.
type EventKind string

// Events reported through the optional hooks of [Policy] and [Hasher].
const (
	// EventBreachCheckFailed: the [BreachChecker] failed; Err says why.
	EventBreachCheckFailed EventKind = "password.breach_check_failed"
	// EventBreachedPassword: a password was rejected as breached.
	EventBreachedPassword EventKind = "password.breached"
	// EventLegacyVerified: a bcrypt or scrypt hash matched; Algorithm names
	// it. The host should store a fresh hash ([Hasher.NeedsRehash]).
	EventLegacyVerified EventKind = "password.legacy_verified"
	// EventLimitExceeded: a stored hash asked for more resources than the
	// caps allow, a sign of tampering or corruption; Algorithm names it.
	EventLimitExceeded EventKind = "password.limit_exceeded"
)

// Event is passed to a hook. It never carries a password, pepper, salt or
// hash.
type Event struct {
	Kind      EventKind
	Algorithm string // "argon2id", "bcrypt", "scrypt", or empty
	Err       error  // cause, for failures
}

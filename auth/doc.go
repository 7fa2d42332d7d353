// Package auth is Bulwark's login flow: registration with generated
// usernames, password login with a second factor, brute-force protection,
// password reset and change, recent-authentication checks, notifications
// and audit events. It composes the core packages (password, mfa, session,
// audit) through small interfaces it declares itself.
//
// # Usernames
//
// [GenerateUsername] turns a first and last name into a login of the form
// JanKowalski37: the names are transliterated to ASCII ([Transliterate]:
// Łukasz Żółć → LukaszZolc), capitalised and joined ([UsernameBase]), and
// a random number is appended and claimed atomically in a [ClaimStore], so
// two registrations never get the same login, even on different instances.
//
// # Brute-force protection
//
// [LockoutPolicy] is Keycloak's per-account model: every FailureFactor
// consecutive failures add WaitIncrement to a wait after the latest failure,
// up to MaxWait, and a quiet period of ResetAfter forgets them. An optional
// permanent lock, and always the NIST SP 800-63B §5.2.2 limit of 100
// consecutive failures, lock the account until a password reset. Counters
// live in a [CounterStore] so that the protection holds across instances.
//
// # Stores
//
// [Store] gathers what auth keeps for itself: claims, counters, reset tokens
// and pending-MFA states. store/memstore, store/sqlstore (PostgreSQL and
// SQLite) implement all of it, store/redisstore the counters; the
// conformance suite is in auth/authtest. Stores report missing or expired
// records with [ErrNotFound]; any other error is a system failure and the
// flows deny.
package auth

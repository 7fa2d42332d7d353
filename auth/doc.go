// Package auth is Bulwark's login flow: registration with generated
// usernames, password login with a second factor, brute-force protection,
// password reset and change, recent-authentication checks, notifications
// and audit events. It imports no other Bulwark package: it declares what
// it needs as small interfaces ([Hasher], [PolicyChecker], [MFAVerifier],
// [SessionIssuer], [Auditor]), plus the host's users table
// ([CredentialStore]) and mail ([Notifier], [ResetMailer]).
//
// # Wiring
//
// [New] takes the collaborators in [Deps] and the tunables in [Config],
// whose zero value means every documented default. The root package
// github.com/bulwarkhq/bulwark wires auth to the other packages and offers
// ready HTTP handlers; most hosts use it and never call auth.New
// themselves. password's *Hasher and Policy fit auth's interfaces as they
// are; bulwark.SessionIssuer adapts a session Manager, bulwark.MFAVerifier
// an mfa Manager (TOTP, recovery codes and emailed codes the user turned
// on), and bulwark.Auditor an audit Log:
//
//	a, err := auth.New(auth.Deps{
//		Store: st.Auth(), Users: users, Hasher: hasher, Policy: password.Policy{},
//		Sessions: bulwark.SessionIssuer(sessions),
//		MFA:      bulwark.MFAVerifier(factors),
//		Auditor:  bulwark.Auditor(log, tenant),
//		Notifier: mailer, Mailer: mailer,
//	}, auth.Config{})
//
// Any of them can be replaced by the host's own type, since auth depends
// only on the interfaces.
//
// # Usernames
//
// [GenerateUsername] turns a first and last name into a login of the form
// JanKowalski37: the names are transliterated to ASCII (Łukasz Żółć →
// LukaszZolc, Иван Петров → IvanPetrov, 王芳 → WangFang;
// NFKD plus tables for ł, ß, ø, æ, þ, đ, Cyrillic, Greek and Hangul, and
// pinyin for Han characters),
// capitalised and joined, and a random number (two digits
// first, more after collisions) is appended and claimed with an atomic
// insert-if-absent in a [ClaimStore], so two registrations never get the
// same login, on any number of instances. Usernames are unique
// case-insensitively ([UsernameKey]).
//
// # Login
//
// [Authenticator.Login] checks the password; [Authenticator.CompleteMFA]
// the second factor when the user has one or one is required
// ([Config.RequireMFA], [User.MFARequired]); then a session starts through
// [SessionIssuer] with a fresh token (ASVS 5.0 7.2.4), which also applies
// the single-session rule. Between the two steps the user holds a pending
// token: 256 random bits, stored as SHA-256, bound to the browser by
// [Client.Binding], valid 5 minutes ([Config.PendingTTL]), good for 5 codes
// ([Config.MaxMFAAttempts]) and completed once. It is not a session: only
// CompleteMFA accepts it. CompleteMFA says what went wrong so the host can
// tell the user: [ErrInvalidCode] for a wrong code, with
// [ErrMFAAttemptsExhausted] when that code used the state's last attempt
// (sign in again), and a [*MFALockedError] with the lock's end when the
// factor is locked; the code that locks it is audited
// ([EventMFALockout]) and the owner is mailed ([NotifyMFALocked]). Hashes are upgraded after a successful login when
// [Hasher.NeedsRehash] says so.
//
// # No account enumeration
//
// An unknown login, a wrong password and a locked account return the same
// [ErrInvalidCredentials] after the same work (ASVS 5.0 6.3.8): a lookup,
// a counter read, one password verification (against a dummy hash made
// once with the same hasher when no account matches) and a counter write
// (during a lockout a [FailureTouch] that rewrites the row unchanged, so a
// locked attempt costs the same write as a counted one on SQL stores).
// During a lockout the password is verified but its result ignored, so a
// lock never tells whether a guess was right (unlike authboss #292).
// [Authenticator.Register] answers the same for a new and a registered
// address (the owner is notified instead) after the same store calls (a
// username claim, CreateUser, a lookup by email, a release and two device
// claims, some of them decoys), and [Authenticator.RequestPasswordReset]
// the same for a known and an unknown address. TestSameStoreWorkPerPath
// counts the calls of every path. Notifier and ResetMailer should enqueue rather than send inline
// so that mail does not show in response times.
//
// # Legacy hashes
//
// Hashes from before auth (bcrypt, scrypt, argon2id with weaker
// parameters) are verified and replaced after a successful login
// ([Hasher.NeedsRehash]), but until then they answer at their own speed,
// which tells an attacker which accounts have them. [UpgradeHashes] wraps
// every such hash offline in the current algorithm (password's Hasher.Wrap,
// a hash onion) through the host's users iterator and a compare-and-set
// hash swap; with the wrapped settings in password's Config.LegacyPad,
// unknown, current and wrapped accounts then cost the same to verify
// (TestLegacyHashesIndistinguishableByTiming).
//
// # Brute-force protection
//
// [LockoutPolicy] is Keycloak's per-account model: from the
// FailureFactor-th consecutive failure on (default 5), each failure imposes
// a wait of WaitIncrement (1 min) per FailureFactor failures so far, at
// most MaxWait (15 min), and a quiet period of ResetAfter (12 h) forgets
// them. An optional permanent lock, and always the NIST SP 800-63B §5.2.2
// limit of 100 consecutive failures, lock the account until a password
// reset or [Authenticator.Unlock]. Each attempt is counted (atomically, in
// the store) before its password is verified and is judged on the state
// the attempts counted before it left, so a burst of concurrent guesses,
// on any number of instances, gets no more of them judged than the same
// guesses one at a time; a correct password then clears the count.
// Attempts that find a wait in force are refused unjudged and not counted,
// and so are attempts whose count lands past the allowance because other
// attempts were counted just before them: their count is taken back
// ([FailureUndo]), so the failure count only ever holds judged attempts and
// a concurrent attacker reaches a permanent lock no faster than a
// sequential one (TestRefusedGuessesNotCounted, on every store).
//
// A burst of right passwords is not a brute force: an attempt that finds
// the allowance taken by attempts of the same [Authenticator] still in
// flight on that account waits for them (at most [Config.BurstWait], one
// minute by default, and never past its context) instead of being refused,
// then tries again on what they left: a clear count if one of them was
// right, the lock if they were all wrong. So a client that retries, or 64
// concurrent logins in a benchmark, all succeed, while a burst of wrong
// guesses still gets no more judged than the allowance
// (TestRightPasswordBurstSucceeds, TestBurstJudgesOneBlockPerWait). The
// waiting is per process: attempts past the allowance on another instance
// sharing the store are refused unjudged (and not counted), so route a
// user's retries to one instance (sticky sessions) if this matters.
// Per IP, [Config.IPLimit] failed logins per [Config.IPWindow] (100 per
// 15 min; IPv6 per /64) are allowed, then [ErrRateLimited], which depends
// only on the IP. The per-IP count is read before an attempt and added to
// after it fails, so concurrent attempts from one address can pass the
// limit by as many as are in flight at once. Known accounts are counted by user id, unknown logins by
// a hash of their text. Every lock is audited ([EventLockout]); the owner
// is notified ([NotifyLockout]) of the first lock of a run and of a
// permanent one. This answers ASVS 5.0 6.1.1 and 6.3.1: waits are short
// and capped so an attacker cannot keep the owner out for long, and the
// owner can always reset.
//
// # Password reset and change
//
// [Authenticator.RequestPasswordReset] and [Authenticator.AdminStartReset]
// send a link with a 256-bit single-use token, stored as SHA-256 and valid
// 30 minutes ([Config.ResetTTL]); an administrator never sets or sees the
// password (ASVS 5.0 6.4.6). [Authenticator.ResetPassword] consumes it
// atomically, ends all sessions, clears the lockout and starts no session,
// so the next login still needs the second factor (ASVS 5.0 6.4.3).
// [Authenticator.ChangePassword] needs the current password (ASVS 5.0
// 6.2.3, under the same lockout) and can end the other sessions (ASVS 5.0
// 7.4.3).
//
// # Recent authentication
//
// [Authenticator.RequireRecentAuth] guards the sensitive actions (email
// change, MFA change, export, account deletion, named by the host) with a
// maximum age of the session's last authentication, 10 minutes by default (ASVS 5.0
// 7.5.1, 7.5.3); [Authenticator.Reauthenticate] renews it by proving the
// factors again: the password, and for a user with a second factor
// enrolled a code too ([Reauth].Code; [ErrCodeRequired] without one), so a
// session established with MFA is not renewed with the password alone.
// The returned [SessionStart].Factors names the factors proved. Wrong codes count
// towards the lockout like wrong passwords; a request without a code does
// not.
//
// # Events and notifications
//
// Every step produces an [Event] (with IP and user agent) for the
// [Auditor] and the optional [Config.Hook]; the event names follow
// audit's actions (and [Event].Outcome is one of audit's outcome values) (auth.login, auth.login.failed, auth.lockout, ...). Events
// never carry passwords, tokens, codes or the text typed as the login of an
// unknown account. Account activity goes to the [Notifier]: account created,
// password changed, MFA enabled or disabled, login from a new device or IP,
// lockout (ASVS 5.0 6.3.5, 6.3.7).
//
// # Stores
//
// [Store] gathers what auth keeps for itself: claims, counters, reset tokens
// and pending-MFA states. store/memstore, store/sqlstore (PostgreSQL and
// SQLite) and store/redisstore implement all of it; [SplitStore] combines
// back ends (for example claims in SQL beside the users table, the rest in
// Redis). The conformance suite is auth/authtest. Stores report missing or
// expired records with [ErrNotFound].
//
// # Concurrency, nil and errors
//
// An [Authenticator] is safe for concurrent use, and any number of them, in
// any number of processes, may share a Store: every rule is applied
// atomically in the store. [New] returns an error for a nil required
// dependency and never panics. Any store, audit or dependency failure fails the flow with a
// wrapped error and never grants access (fail closed); a [Notifier] failure
// is reported as an event and never undoes a step. Errors never contain a
// secret.
package auth

// Package mfa provides second factors: TOTP authenticator apps, emailed
// one-time codes and recovery codes. Every code works once, secrets are
// sealed at rest, codes are stored only as hashes, and every store error
// denies.
//
// A [Manager] does all of it over a [Store] (see store/memstore,
// store/sqlstore and store/redisstore) and a [Sealer] (keyring's
// *Keyring):
//
//	m := mfa.New(sqlStore.MFA(), kr, mfa.Config{Issuer: "Acme", Sender: smtpSender})
//	e, err := m.EnrollTOTP(ctx, userID, email) // show e.QRCodePNG
//	err = m.ConfirmTOTP(ctx, userID, code)     // activates the factor
//	err = m.VerifyTOTP(ctx, userID, code)      // at login
//
// # TOTP
//
// [Manager.EnrollTOTP] creates a 160-bit secret (RFC 4226 section 4; ASVS
// 6.5.3: from crypto/rand), seals it with the [Sealer] bound to the user
// id as associated data (so a sealed secret copied to another account
// does not open), and returns the otpauth:// Key URI ([KeyURI.String]:
// every part percent-encoded, so issuers such as "AT&T" or "C++ Guild"
// read back exactly), the base32 secret and a QR code PNG (rendered with
// github.com/pquerna/otp). The enrollment
// stays pending, and verifies nothing, until [Manager.ConfirmTOTP] sees a
// valid code within EnrollTimeout.
//
// [Manager.ImportTOTP] takes an existing key instead (from [ParseKeyURI],
// when moving factors from another system): bounded (160 to 512-bit
// secret, SHA1/SHA256/SHA512, 6 or 8 digits, 1 to 30 s period; a
// [ErrInvalidKey] otherwise), sealed the same way, and pending until
// [Manager.ConfirmTOTP] sees a code from it.
//
// [Manager.VerifyTOTP] accepts the code of the current 30 s step and of one
// step either side for clock drift and typing time (RFC 6238 section 5.2;
// about 90 s in all; Config.TOTPSkew says why this is the default). Set
// Config.TOTPSkew to -1 to accept the current 30 s step
// only, the strict reading of ASVS 6.5.5. Codes are checked against the
// server's clock (ASVS 6.5.8), with constant-time comparisons; a wrong
// code always costs the whole window. A step, once accepted, is refused afterwards, and so is every
// earlier step (RFC 6238 section 5.2; ASVS 6.5.1): the store's
// [StepStore.MarkStep] records it atomically, so the same code tried at the
// same moment on several app instances succeeds exactly once. Unlike
// pquerna's ValidateOpts{}, a zero Config fixes digits (6), algorithm
// (SHA-1) and period (30 s) explicitly, so codes from every common app
// verify.
//
// Attempts are limited (Config.MaxAttempts, default 5, then a 15 minute
// lock after which the count restarts: a rate limit, see
// Config.MaxAttempts for NIST SP 800-63B section 5.2.2). An attempt is taken from the
// store atomically before a code is checked, so concurrent guesses cannot
// exceed the limit; a lock is reported as a [*LockedError] (matching
// [ErrLocked]) that says until when.
//
// # Emailed codes
//
// [Manager.SendCode] makes a uniformly random 6-digit code (19.9 bits,
// the "about 6 digits" of ASVS 6.5.4; up to 8 with Config.CodeDigits), stores its hash, and hands
// it to a [Sender]: [SMTPSender] (net/smtp, STARTTLS required), or
// [ConsoleSender] in development. [Manager.VerifyCode] accepts it once,
// for the same account and [Purpose] only (ASVS 6.6.2), within 10 minutes
// (ASVS 6.5.5), for at most 5 attempts after which the code is dead (ASVS
// 6.6.3); a new code may be sent at most once a minute per account and
// purpose. A resend does not restore the account's guesses: wrong emailed
// codes count against Config.MaxAttempts like wrong TOTP codes, and lock
// the emailed-code factor the same way (a [*LockedError]).
//
// # Emailed codes as a second factor
//
// Emailed codes are a second factor only for a user who turned them on:
// [Manager.StartEmailFactor] mails a code of purpose [PurposeEmailFactor]
// and [Manager.ConfirmEmailFactor] records the choice in the
// [EmailFactorStore] ([Status].Email; [Manager.Remove] turns it
// off). At sign-in, [Manager.SendLoginCode] and [Manager.VerifyLoginCode]
// refuse ([ErrNotEnrolled]) for everyone else, so whoever reads a TOTP
// user's mailbox (which also gets the password-reset link) never passes
// as that user's second factor. bulwark.MFAVerifier reads the enrolment from
// here; the host has no callback to get wrong.
//
// The hash is HMAC-SHA-256 over a random 128-bit per-code salt, the user
// id, the purpose and the code, keyed with Config.CodePepper if set. With
// only 10^6 possible codes no hash, fast or slow, resists someone who has
// read the database and knows the salt: the hash keeps codes out of plain
// sight (backups, query logs, admin screens), the salt makes each code's
// hash unique, and a pepper kept outside the database adds real
// protection against a database-only leak. The defence against guessing
// is the attempt limit and the 10-minute lifetime.
//
// # Recovery codes
//
// [Manager.GenerateRecoveryCodes] makes 10 codes such as
// "7k3m9-qx2vd-h8a1c-0zt5w-e4npr": 25 symbols of Crockford's base32, 125
// bits each. At 112 bits or more, ASVS 6.5.2 allows a plain hash, so they
// are stored as SHA-256 (which also lets the store look a code up by its
// hash without a per-user scan). Each works once; regenerating replaces
// the whole set; [Manager.UseRecoveryCode] reports how many remain.
// Input must be a well-formed code (either case, dashes all or none),
// anything else is refused before any lookup. There is no lockout: 125
// bits make guessing futile, and a lock would only let an attacker block
// the owner's last way back in.
//
// # Events
//
// Config.Hook receives an [Event] for each enrollment, confirmation,
// removal, code sent, success, failure, lockout and replay, with the user,
// factor and reason, never a code, secret or hash (ASVS 16.3.1, 16.3.3).
// The auth package turns them into audit records and notifications.
//
// # Stores and concurrency
//
// The store is split by concern ([TOTPStore], [StepStore],
// [CounterStore], [OOBStore], [RecoveryStore], [EmailFactorStore]);
// [Stores] combines parts from different back ends, for example SQL for
// enrollments and recovery codes with Redis for step marks, counters and
// emailed codes. Attempt limits and locks are computed here, in Go, over
// the store's plain counters (see Config.MaxAttempts), so no back end
// carries lockout rules of its own. The conformance suite mfa/mfatest
// checks an implementation, including its atomicity under concurrency. A Manager is safe for concurrent use, and
// any number of Managers may share one store.
//
// # Errors
//
// Methods return the package's sentinels ([ErrInvalidCode], [ErrReplay],
// [ErrLocked], [ErrNoCode], ...) for outcomes the caller shows to the
// user; any other error is a system failure (store, sealer, sender or
// randomness) and always means "denied". Errors never contain codes or
// secrets. [New] returns an error for invalid Config values and nil
// dependencies.
package mfa

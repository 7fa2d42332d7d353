// Package password checks, hashes and generates passwords: a NIST SP
// 800-63B / OWASP ASVS 5.0 policy with an embedded blocklist, context words
// and an optional breached-password check; argon2id hashing in PHC strings
// with a pepper, bounded concurrency and verification of legacy bcrypt and
// scrypt hashes; and unbiased generation of passwords and passphrases.
//
// # Policy
//
// A zero [Policy] applies the defaults of ASVS 5.0 6.2 and 800-63B rev. 4
// §3.1.1.2:
//
//   - at least 8 characters (6.2.1). Both standards
//     strongly recommend 15 or more when the password is the only factor:
//     set MinLength: 15 for accounts without MFA;
//   - at most 128 characters, well above the 64 that
//     6.2.9 requires; a longer password is rejected with [CodeTooLong],
//     never truncated (6.2.8);
//   - no composition rules (6.2.5); they are opt-in through MinUpper,
//     MinLower, MinDigit and MinSpecial, and [PresetUpperDigitSpecial] is
//     the common "8 characters, one upper-case, one digit, one special"
//     contract;
//   - any Unicode accepted, NFKC-normalised ([Normalize]) before checking
//     and hashing, so the same password typed on different keyboards or
//     platforms matches; a code point counts as one character, and the
//     minimum applies to the shorter of the typed and normalised forms, so
//     a character NFKC expands (U+FDFA becomes 18) counts once;
//   - the 30,000 most common passwords rejected, case-insensitively
//     ([CodeCommon], 6.2.4, which asks for at least the top 3,000);
//   - context words (6.1.2, 6.2.11): the host's static words in
//     [Policy.ContextWords] and per-user words (name, email) passed to
//     [Policy.Check]. A password is rejected if, after lower-casing and
//     undoing common substitutions (p4ssw0rd), it contains a word of three
//     or more characters, or comes within one edit of a word of six or
//     more, or within two edits as a whole;
//   - a [BreachChecker] (6.2.12), off by default; [HIBP] implements the Have
//     I Been Pwned k-anonymity range API with response padding. A checker
//     failure is reported through [Policy.Hook] and does not block unless
//     [Policy.BlockOnBreachCheckError] is set.
//
// [Policy.Check] returns a *[PolicyError] listing every violated rule as a
// [Violation] with a stable [Code] and integer parameters, for translation.
// Errors never contain the password or the context words.
//
// [Estimate] gives a cheap 0-4 score with [Hint]s for a strength meter; it
// is advice, not policy.
//
// # Bounded cost
//
// Check and Estimate take attacker input (a sign-up form, an
// unauthenticated strength meter), so every input that reaches the
// context-word matcher, whose alignment costs password length × word
// length, is bounded first: a password over 16 bytes per allowed character
// gets [CodeTooLong] before it is normalised, and a password that is too
// long after normalisation skips the blocklist, context and breach checks
// (it is refused anyway); the matcher reads at most the first 128
// characters of the password, at most 8 per-user words,
// each up to 254 bytes (truncated before normalising),
// and at most 16 distinct per-user tokens of up to 32 characters; Estimate
// reads at most the first 128 characters of the password. Host words in
// [Policy.ContextWords] are not capped in number. With megabyte passwords
// and megabyte context words built to defeat the matcher's filter, Check
// and Estimate stay under half a millisecond on the development VM
// (BenchmarkCheckWorstCase, BenchmarkEstimateWorstCase), and
// TestHugeContextWordsBounded proves the bound by counting work and bytes
// allocated.
//
// The blocklist (zxcvbn 4.4.2's frequency list, MIT licence, notice in
// internal/blocklist/common-passwords.LICENSE) is embedded and indexed by an
// open-addressing table of uint32 offsets into the embedded text: each
// lookup is O(1) (about 30 ns, no allocation) and the set costs 376 KiB of
// heap, measured with runtime.MemStats in the blocklist tests (a
// map[string]struct{} of the same words costs 1.7 MiB). It is built on first
// use.
//
// # Hashing
//
// [Hasher.Hash] produces argon2id (RFC 9106) PHC strings,
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>
//
// which the reference implementation reproduces byte for byte for the same
// salt and parameters (a test checks it against the argon2 CLI's output).
// [DefaultParams] are RFC 9106 §4's second recommended option: 64 MiB, 3
// passes, 4 lanes, a 16-byte salt from crypto/rand and a 32-byte tag (ASVS
// 5.0 11.4.2). On the 2-core development VM one default hash costs about
// 135 ms of CPU time (0.3-0.6 s wall time while shared with other builds);
// [Calibrate] picks parameters for a target duration and memory budget on
// your hardware. This package's own work per Hash or Verify (salt, NFKC,
// semaphore, parsing, encoding) is a few microseconds: in CPU time, Hash
// and Verify at the defaults measured 0.97× and 1.00× raw argon2.IDKey
// (medians of 4 runs; the 1% budget is within the run-to-run noise).
//
// [Hasher.Verify] also accepts bcrypt ($2a$, $2b$, $2y$) and scrypt
// ($scrypt$ln=,r=,p=$salt$hash) hashes so hosts can migrate, and
// [Hasher.NeedsRehash] reports every hash made with another algorithm,
// weaker parameters, or an old or missing pepper, so login can replace it.
// bcrypt reads at most 72 bytes: Verify deliberately compares only the
// first 72 bytes against a bcrypt hash, as the system that made it did,
// and the argon2id hash that replaces it uses the whole password.
//
// Parameters read from stored hashes are capped by [Limits] (by default
// 256 MiB, 16 passes, 16 lanes, salts of 8-64 bytes, tags of 16-64 bytes,
// bcrypt cost 16, scrypt memory and work to match), so a malicious or
// corrupt hash cannot exhaust the machine: it fails with
// [ErrParamsTooLarge] and an [EventLimitExceeded]. Derived keys are compared
// in constant time; an empty, malformed or unknown hash is an error, never
// a match. For a login to an account that does not exist, call
// [Hasher.VerifyNone], which spends the same time and returns
// [ErrMismatch], so timing does not reveal which accounts exist.
//
// # Hash onions
//
// Waiting for every owner of a legacy hash to log in leaves weak hashes in
// the database for years, and an account with a bcrypt hash answers a
// login at another speed than one with a current hash. [Hasher.Wrap]
// upgrades a stored bcrypt, scrypt or weaker argon2id hash without the
// password: it runs argon2id at the current parameters (and pepper) over
// the legacy hash's output, and keeps the legacy algorithm, parameters and
// salt but not its output, in this package's own PHC-style form:
//
//	$argon2id-onion$v=19$m=65536,t=3,p=4[,keyid=<B64>]$<salt>$<tag>$<inner>
//	<inner> = bcrypt$v=2b,c=10$<22-character bcrypt salt>
//	        | scrypt$ln=<log2 N>,r=<r>,p=<p>,l=<output bytes>$<B64 salt>
//	        | argon2id$m=<KiB>,t=<passes>,p=<lanes>,l=<output bytes>[,keyid=<B64>]$<B64 salt>
//
// The argon2id input is "bulwark/password/onion/v1", NUL, the inner
// algorithm's name, NUL and the inner output (for bcrypt, the 23 bytes its
// hash string encodes after the salt; bcrypt is recomputed here on
// x/crypto's blowfish, since x/crypto/bcrypt cannot hash with a given
// salt). [Hasher.Verify] recomputes the inner output from the password,
// then the argon2id tag, and compares it in constant time;
// [Hasher.NeedsRehash] reports every onion, so the first login replaces it
// with a plain argon2id hash. Wrap leaves current hashes and onions as they
// are, so it can run over every user again; auth's UpgradeHashes does that
// over the host's users table.
//
// An onion costs its inner work on top of argon2id. So that every login
// costs the same whatever the stored hash (ASVS 5.0 6.3.8), list each
// wrapped legacy setting ([InnerSetting], such as "bcrypt$v=2b,c=10") in
// [Config.LegacyPad]: every verification of an argon2id hash or an onion
// then does the inner work of every listed setting, an onion's own inner
// work taking the place of its entry. This is CPU work, not a sleep, and
// it makes every login as slow as the slowest legacy setting in use, until
// the last onion has been replaced at login and the entry can go. A
// legacy hash that was never wrapped is verified without padding and still
// answers at its own speed: run the upgrade.
//
// An optional [Pepper], a key held outside the database, is applied with
// HMAC-SHA256 before argon2id; its id is stored in the PHC keyid parameter,
// so peppers rotate: keep old ones in [Config.OldPeppers] and NeedsRehash
// reports hashes under them.
//
// # Concurrency and memory
//
// A [Hasher] runs at most [Config.MaxConcurrent] hashes at once (Hash and
// Verify together); the default is max(2, NumCPU/Parallelism). Further
// callers wait on a semaphore before allocating anything, and give up when
// their context ends. Measured with internal/cmd/rsscheck under
// /usr/bin/time -v on the 2-core development VM (Go 1.26, default
// parameters, machine shared with other builds):
//
//	calls  limit           peak RSS (time -v)        bound (limit×2×m+64 MiB)
//	   64  2 (default)     270,420 KB  (264 MiB)     320 MiB
//	   32  2 (default)     270,004 KB  (263 MiB)     320 MiB
//	   32  32 (unbounded)  2,107,828 KB (2.0 GiB)    -
//
// The limit cuts peak memory 8×. In back-to-back runs the 32 calls took
// 6.6 s with the limit and 16.5 s unbounded (2.5× slower); wall times on
// the shared VM vary run to run (the 64-call run took 30-33 s under
// heavier load), but the memory figures do not.
//
// All exported functions and methods are safe for concurrent use. Hooks are
// called synchronously on the caller's goroutine and must be safe for
// concurrent use themselves.
//
// # Events
//
// [Policy] and [Config] each have an optional Hook that receives an [Event]
// of an [EventType] ("password.breached", "password.breach_check_failed",
// "password.legacy_verified", "password.limit_exceeded"), stamped with the
// Now clock of the Policy or Config. Events never carry a password, pepper,
// salt or hash.
//
// # Generation
//
// [Generate] returns a password that satisfies a policy's local rules (20
// characters from a 90-character alphabet by default, about 129 bits), and
// [Passphrase] a word-based passphrase (8 words from a 17,557-word list by
// default, about 113 bits), both adapted to composition rules. Every draw
// is uniform from crypto/rand, by rejection sampling with no modulo bias
// (ASVS 5.0 6.4.1, 11.5.1).
//
// # Errors and nil
//
// Sentinel errors are listed with the calls that return them; compare with
// [errors.Is]. Policy and Hasher configuration fields may be nil (Rand,
// Hook, Breach, Pepper); a nil *Hasher is not usable.
package password

// Package keyring encrypts personal data at rest under versioned keys that
// rotate, with the keys themselves encrypted by a key-encryption key (KEK)
// the host controls.
//
// # Keys
//
// A [Keyring] holds data-encryption keys (DEKs), each identified by a random
// 32-bit id and in one [State]: exactly one [Primary] key encrypts; every
// [Primary] or [Enabled] key decrypts; [Disabled] keys keep their material
// but decrypt nothing until re-enabled; [Admin.Destroy] deletes a disabled
// key for good. The primary can be neither disabled nor destroyed
// ([ErrPrimaryKey]); an enabled key must be disabled before it is destroyed
// ([ErrKeyEnabled]). The first [Keyring.Seal] on an empty store creates the
// first primary key.
//
// # Two roles
//
// The [Keyring] encrypts and decrypts: [Keyring.Seal], [Keyring.Open], the
// string and subject-key variants and [Keyring.BlindIndex]. Its [Admin],
// from [Keyring.Admin], manages the keys, as the store splits [KeyStore]
// from [KeyAdminStore]: [Admin.AddKey], [Admin.SetState] and
// [Admin.Destroy] are the individual lifecycle steps, [Admin.Rotate] adds
// and promotes in one call, [Admin.Keys] is the inventory, and
// [Admin.RotationAdvice], [Admin.ReEncrypt], [Admin.Rewrap],
// [Admin.DestroySubjectKey] and [Admin.Sync] complete it. Code that only
// encrypts need never see the Admin.
//
// # Envelope encryption
//
// DEKs reach the [Store] only wrapped by a [KEK], with the key's record
// (subject and id) as associated data so a wrapped key copied to another
// record does not unwrap. Ship-ready KEKs: [NewLocalKEK], a 256-bit master key
// loaded with [LocalKEKFromEnv] or [LocalKEKFromFile] (hex or base64), and
// [NewPassphraseKEK], derived with argon2id (RFC 9106) with its salt and
// parameters stored in each wrapped key. A cloud KMS fits the same two
// methods (see the KEK example). [Admin.Rewrap] moves every DEK under a
// new KEK without touching data; Config.PreviousKEKs keeps processes
// working during the move. Unwrapped DEKs are cached in memory, so the
// encryption path does no store I/O.
//
// # Ciphertext format and associated data
//
// [Keyring.Seal] uses AES-256-GCM (NIST SP 800-38D) with a random 96-bit
// nonce and returns
//
//	format (1) | key id (4) | nonce (12) | ciphertext | tag (16)
//
// The format byte (0x01; 0x02 for subject keys) lets the format evolve; the
// key id lets [Keyring.Open] find the key after rotation; both are
// authenticated together with the caller's associated data. Use [AD]
// (table, column, row id) as associated data for a database field, so a
// ciphertext copied into another row or column fails with [ErrAuthFailed].
// [Keyring.EncryptString] and [Keyring.DecryptString] wrap the same calls
// for TEXT columns (base64url).
//
// # Key-usage limit
//
// With random 96-bit nonces, NIST SP 800-38D section 8.3 limits one key to
// 2^32 encryptions, keeping the probability of a repeated nonce (which
// would reveal the XOR of two plaintexts and allow tag forgery) below
// 2^-32. The keyring counts encryptions per key (in memory, added to the
// store every Config.UsageFlushEvery), emits [EventRotationAdvised] at
// Config.RotateAfterEncryptions (2^31 by default) and reports it in
// [Admin.RotationAdvice], together with age-based advice (one year by
// default, NIST SP 800-57 Part 1 section 5.3.6); at Config.MaxEncryptions
// (2^32) Seal returns [ErrUsageLimit]. Because each process flushes counts
// in batches, the hard limit is approximate by up to UsageFlushEvery per
// process: rotate on advice, long before it.
//
// # Rotation and re-encryption
//
// [Admin.Rotate] adds a key and promotes it. Other processes see the new
// primary within Config.RefreshInterval (default 30 s) or at once after
// their [Admin.Sync]; meanwhile they keep encrypting under the previous key,
// which stays enabled, and a ciphertext under a key they have not yet seen
// is opened after one point read of the store. [Admin.ReEncrypt] then
// walks the host's records through a [RecordSource] in batches,
// re-encrypting whatever is under an old key, reporting [Progress] with a
// checkpoint cursor, resumable and cancellable. When a full pass started at
// least RefreshInterval after the rotation re-encrypts nothing, no process
// writes under the old keys any more and they can be disabled;
// [Admin.SetState] refuses ([ErrKeyInUse]) within RefreshInterval of a
// key's demotion.
//
// Rotation is safe with many processes on one store: promotion runs in one
// transaction that demotes the previous primary, and the SQL schema has a
// partial unique index allowing only one primary, so there are never two
// primaries and no key is lost.
//
// # Blind index
//
// [Keyring.BlindIndex] returns HMAC-SHA256 of a value under a per-column key
// derived with HKDF (RFC 5869) from a blind-index key separate from the
// DEKs, so a host can look up an encrypted email by equality. It leaks
// equality and frequency: see [Keyring.BlindIndex].
//
// # Crypto-shredding
//
// [Keyring.SealFor] and [Keyring.OpenFor] encrypt under a per-subject (user
// or tenant) key created on first use. [Admin.DestroySubjectKey] deletes
// that key, so the subject's data becomes unreadable everywhere it was
// copied, backups of the data included (keep key-store backups on a short
// retention; see [Admin.DestroySubjectKey]).
//
// # Secrets
//
// [Secret] holds master keys and passphrases: it prints as "[REDACTED]"
// through fmt, slog and encoders, compares in constant time and can be
// zeroed.
//
// # Errors
//
// Bad input never panics; it returns a sentinel to test with [errors.Is]:
// [ErrTruncated], [ErrUnknownFormat], [ErrAuthFailed] (a changed ciphertext
// and the wrong associated data alike: GCM cannot tell them apart),
// [ErrUnknownKey], [ErrKeyDisabled], [ErrWrongKEK]. A store failure is
// returned wrapped, and the keyring fails closed: nothing is encrypted or
// decrypted without the store's answer when the store must be asked.
// Errors never contain plaintext, keys or associated data.
//
// # Concurrency
//
// A [Keyring] is safe for concurrent use, and any number of Keyrings in
// any number of processes may share one [Store]. Its cache is an immutable
// snapshot swapped atomically, so Seal and Open take no lock and do no
// store I/O on the hot path. Changes made elsewhere (rotation, disable,
// destroy, subject-key destruction) take effect within
// Config.RefreshInterval, or at once after [Admin.Sync].
//
// # Events
//
// Config.Hook, if set, receives an [Event] for each key lifecycle change
// (values "keyring.key_added", "keyring.key_promoted", ...), a rotation
// advice and a failed usage-count flush. It is called synchronously; events
// never carry key material or plaintext.
//
// # Nil behaviour
//
// [New] returns an error for a nil store or KEK. Nil plaintext and nil
// associated data are valid (and equal to empty ones). Methods on a nil
// *Keyring panic, as a programming error.
package keyring

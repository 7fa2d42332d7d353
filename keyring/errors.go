package keyring

import "errors"

// Errors returned when a ciphertext cannot be opened. Each is a sentinel to
// test with [errors.Is]; none carries plaintext, key material or the
// associated data.
var (
	// ErrTruncated is returned by [Keyring.Open], [Keyring.OpenFor] and the
	// string helpers when the input is shorter than the smallest valid
	// ciphertext (header, nonce and tag), or is not valid base64 text.
	ErrTruncated = errors.New("keyring: truncated ciphertext")
	// ErrUnknownFormat is returned when the ciphertext's format version byte
	// is not one this version of the package writes, including a subject
	// ciphertext passed to Open or a keyring ciphertext passed to OpenFor.
	ErrUnknownFormat = errors.New("keyring: unknown ciphertext format")
	// ErrAuthFailed is returned when AES-GCM authentication fails: the
	// ciphertext was changed, or it is opened with associated data other than
	// the data it was sealed with (a value copied into another row). GCM
	// cannot tell these apart, so there is one error for both: a test that
	// tells them apart would be testing a distinction that does not exist.
	ErrAuthFailed = errors.New("keyring: message authentication failed (tampered ciphertext or wrong associated data)")
	// ErrUnknownKey is returned when the key id in a ciphertext names no key
	// in the store: it was destroyed, never existed, or the ciphertext was
	// forged. OpenFor returns it when the subject has no key, which is what a
	// destroyed (crypto-shredded) subject key looks like.
	ErrUnknownKey = errors.New("keyring: unknown key")
	// ErrKeyDisabled is returned when the ciphertext's key is disabled, and by
	// [Admin.SetState] when promoting a disabled key.
	ErrKeyDisabled = errors.New("keyring: key is disabled")
	// ErrWrongKEK is returned when a wrapped key cannot be unwrapped by the
	// configured key-encryption key or any of Config.PreviousKEKs: the KEK is
	// wrong, or the key record was altered. The KEKs of [NewLocalKEK] and [NewPassphraseKEK]
	// return it from Unwrap; a KMS-backed [KEK] should too.
	ErrWrongKEK = errors.New("keyring: key-encryption key cannot unwrap the key (wrong KEK or altered key record)")
)

// Errors returned by key management and stores.
var (
	// ErrNotFound is returned by a [Store] when the key or subject key asked
	// for does not exist (or, for ReplaceWrapped, no longer holds the expected
	// wrapped value).
	ErrNotFound = errors.New("keyring: not found")
	// ErrDuplicate is returned by [KeyStore.AddKey] when the id is taken, or
	// the new key is primary while another key is primary.
	ErrDuplicate = errors.New("keyring: duplicate key")
	// ErrPrimaryKey is returned when asked to disable or destroy the primary
	// key. Rotate first.
	ErrPrimaryKey = errors.New("keyring: the primary key cannot be disabled or destroyed")
	// ErrKeyEnabled is returned by [Admin.Destroy] for a key that is still
	// enabled: disable it first, and destroy it only when nothing needs it.
	ErrKeyEnabled = errors.New("keyring: key must be disabled before it is destroyed")
	// ErrKeyInUse is returned by [Admin.SetState] when disabling a key whose state
	// changed (it was demoted from primary) less than Config.RefreshInterval
	// ago, while other processes may still encrypt under it.
	ErrKeyInUse = errors.New("keyring: key changed state too recently to disable")
	// ErrUsageLimit is returned by Seal when the primary key has reached
	// Config.MaxEncryptions (2^32 by default, NIST SP 800-38D section 8.3).
	// Rotate to continue.
	ErrUsageLimit = errors.New("keyring: key usage limit reached, rotate the key")
	// ErrInvalidSubject is returned by the subject-key methods for an empty
	// subject.
	ErrInvalidSubject = errors.New("keyring: invalid subject")
	// errInvalidMasterKey is returned by the master-key loaders
	// when the value does not decode to exactly 32 bytes of hex or base64.
	errInvalidMasterKey = errors.New("keyring: master key must be 32 bytes in hex or base64")
)

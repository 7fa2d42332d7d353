package password

// Test-only access to internals, for the external password_test package.

// ParseRoundTrip parses an encoded hash and, for argon2id, re-encodes it.
func ParseRoundTrip(s string) (string, error) {
	p, err := parseHash(s)
	if err != nil {
		return "", err
	}
	if p.alg == algOnion {
		if p.par > 255 || p.inner.par > 255 {
			return "", ErrParamsTooLarge
		}
		return encodeOnion(Params{Memory: p.memory, Time: p.time, Parallelism: uint8(p.par)}, p.keyID, p.salt, p.hash, p.inner), nil
	}
	if p.alg != algArgon2id {
		return s, nil
	}
	// More than 255 lanes parses (Verify refuses it with ErrParamsTooLarge,
	// not as malformed) but cannot be re-encoded through Params' uint8.
	if p.par > 255 {
		return "", ErrParamsTooLarge
	}
	return encodeArgon2(Params{Memory: p.memory, Time: p.time, Parallelism: uint8(p.par)}, p.keyID, p.salt, p.hash), nil
}

// FillSlots takes every concurrency slot of h, as n in-flight hashes would,
// and returns a function that frees one.
func FillSlots(h *Hasher) (release func()) {
	for range cap(h.sem) {
		h.sem <- struct{}{}
	}
	return h.release
}

// RandIntn exposes the unbiased sampler.
var RandIntn = randIntn

// PassphraseWordCount is the size of the passphrase list.
func PassphraseWordCount() int { return len(passphraseWords()) }

// SubstringDistance exposes the approximate-substring alignment.
var SubstringDistance = substringDistance

// MatchWork is the matcher's work counter (alignment cells plus bytes of
// context word read).
func MatchWork() int64 { return matchWork.Load() }

// BcryptRaw exposes bcrypt with a given salt.
var BcryptRaw = bcryptRaw

// BcryptB64 is bcrypt's base64.
var BcryptB64 = bcryptB64

// VerifyWork is how many KDF runs (legacy inner outputs and argon2id
// passes) h's Verify has made.
func VerifyWork(h *Hasher) int64 { return h.work.Load() }

// Params returns the parameters h uses for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Concurrency returns h's concurrency limit.
func (h *Hasher) Concurrency() int { return cap(h.sem) }

// Values the tests check against; unexported in the package.
const (
	AlgBcrypt             = algBcrypt
	MaxBytes              = maxBytes
	DefaultGenerateLength = defaultGenerateLength
	PassphraseListSize    = passphraseListSize
	DefaultMinLength      = defaultMinLength
	DefaultMaxLength      = defaultMaxLength
	MaxContextWords       = maxContextWords
	MaxContextWordBytes   = maxContextWordBytes
)

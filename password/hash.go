package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Params are argon2id parameters.
type Params struct {
	Memory      uint32 // KiB
	Time        uint32 // passes over memory
	Parallelism uint8  // lanes
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes of output (tag)
}

// DefaultParams returns the default argon2id parameters: 64 MiB, 3 passes,
// 4 lanes, a 16-byte salt and a 32-byte tag. This is the second recommended
// option of RFC 9106 §4 ("if much less memory is available": m=2^16 KiB,
// t=3, p=4), and is stronger than OWASP's Password Storage Cheat Sheet
// minimum (m=19 MiB, t=2, p=1). Measured cost on the 2-core AMD EPYC
// development VM: about 135 ms of CPU time and 64 MiB per hash (0.3-0.6 s
// wall time while the machine was shared with other builds). Use
// [Calibrate] to tune for your hosts.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Parallelism: 4, SaltLen: 16, KeyLen: 32}
}

// maxBytes is the longest password, in bytes (before and after NFKC
// normalisation), that [Hasher.Hash] and [Hasher.Verify] accept: 4096. It is
// far above any [Policy]'s maximum and only bounds the work one call can
// cause.
const maxBytes = 4096

// bcryptMaxBytes is the longest input bcrypt uses; see [Hasher.Verify].
const bcryptMaxBytes = 72

// Limits cap the cost parameters read from stored hashes, so a malicious or
// corrupt hash cannot exhaust memory or CPU. A zero field means its
// default; each cap is also raised to cover the hasher's own [Params].
type Limits struct {
	MaxMemory      uint32 // argon2 KiB, and scrypt 128·r·N bytes / 1024; default 256 MiB (4× default)
	MaxTime        uint32 // argon2 passes; default 16
	MaxParallelism uint32 // argon2 lanes and scrypt p; default 16
	MinSaltLen     uint32 // bytes; default 8 (RFC 9106 §3.1 minimum)
	MaxSaltLen     uint32 // bytes; default 64
	MinKeyLen      uint32 // bytes; default 16 (128-bit, ASVS 5.0 11.2.3)
	MaxKeyLen      uint32 // bytes; default 64
	MaxBcryptCost  int    // default 16 (2^16 rounds, several seconds)
}

func (l Limits) withDefaults(p Params) Limits {
	def := func(v *uint32, d uint32) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxMemory, 256*1024)
	def(&l.MaxTime, 16)
	def(&l.MaxParallelism, 16)
	def(&l.MinSaltLen, 8)
	def(&l.MaxSaltLen, 64)
	def(&l.MinKeyLen, 16)
	def(&l.MaxKeyLen, 64)
	if l.MaxBcryptCost == 0 {
		l.MaxBcryptCost = 16
	}
	l.MaxMemory = max(l.MaxMemory, p.Memory)
	l.MaxTime = max(l.MaxTime, p.Time)
	l.MaxParallelism = max(l.MaxParallelism, uint32(p.Parallelism))
	l.MaxSaltLen = max(l.MaxSaltLen, p.SaltLen)
	l.MaxKeyLen = max(l.MaxKeyLen, p.KeyLen)
	return l
}

// Pepper is a secret key held outside the database (environment, secrets
// manager), mixed into every new hash with HMAC-SHA256 before argon2id. ID
// (1 to 8 bytes, stored in the hash as the PHC "keyid" parameter) lets
// peppers rotate: keep old ones in [Config.OldPeppers] until every hash
// carrying their id has been re-hashed.
type Pepper struct {
	ID  string
	Key []byte // at least 32 bytes
}

// Config configures a [Hasher]. Its zero value means the documented
// defaults.
type Config struct {
	// Params for new hashes; zero fields take [DefaultParams] values.
	Params Params
	// Limits on parameters read from stored hashes.
	Limits Limits
	// MaxConcurrent bounds how many hashes (Hash and Verify together) run at
	// once. Zero means max(2, NumCPU/Parallelism): enough to keep every core
	// busy across argon2's per-slice synchronisation points, few enough that
	// peak memory stays near MaxConcurrent × Memory.
	MaxConcurrent int
	// Pepper, if set, is applied to new hashes.
	Pepper *Pepper
	// OldPeppers are accepted by Verify only.
	OldPeppers []Pepper
	// Rand supplies salts. Nil means crypto/rand.
	Rand io.Reader
	// Now is the clock for [Event].Time. Nil means time.Now.
	Now func() time.Time
	// Hook, if set, receives [Event]s ([EventLegacyVerified],
	// [EventLimitExceeded]). It is optional (nil means no hook) and called
	// synchronously, so a slow hook slows the Verify that reports.
	Hook func(context.Context, Event)
	// LegacyPad lists the legacy settings wrapped in onions among the
	// stored hashes, as [InnerSetting] names them ("bcrypt$v=2b,c=10",
	// "argon2id$m=19456,t=2,p=1,l=32", ...). Every Verify of an argon2id
	// hash or an onion then does the inner work of each (an onion's own
	// inner work takes the place of its entry), so verifying costs the same
	// whatever the stored hash and a login's timing does not tell which
	// accounts had legacy hashes (ASVS 5.0 6.3.8). Empty: no padding.
	LegacyPad []string
}

// Hasher hashes and verifies passwords. It is safe for concurrent use; at
// most its concurrency limit of hashes run at once, and further callers wait
// (without allocating) until a slot frees or their context ends.
type Hasher struct {
	params  Params
	limits  Limits
	sem     chan struct{}
	pepper  *Pepper
	peppers map[string][]byte
	rand    io.Reader
	hook    func(context.Context, Event)
	now     func() time.Time
	dummy   string // a well-formed hash no password matches; see VerifyNone
	pads    []*parsed
	work    atomic.Int64 // KDF runs by Verify (legacy inner outputs and argon2id passes), for tests
}

// New returns a Hasher for cfg, or an error wrapping [ErrInvalidConfig]
// (or a randomness error). A zero Config means the defaults documented on
// its fields. It does not cap cfg.Params: the host chooses them, and
// [Limits] are raised to cover them.
func New(cfg Config) (*Hasher, error) {
	p, d := cfg.Params, DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	l := cfg.Limits.withDefaults(p)
	if p.Memory < 8*uint32(p.Parallelism) || p.SaltLen < l.MinSaltLen || p.KeyLen < l.MinKeyLen {
		return nil, fmt.Errorf("%w: argon2 parameters below minimums", ErrInvalidConfig)
	}
	pads, err := parsePads(cfg.LegacyPad)
	if err != nil {
		return nil, err
	}
	h := &Hasher{params: p, limits: l, rand: cfg.Rand, hook: cfg.Hook, now: cfg.Now, peppers: map[string][]byte{}, pads: pads}
	if h.now == nil {
		h.now = time.Now
	}
	for _, pad := range pads {
		// Every login pays for the pads: hold them to the same caps as
		// stored hashes.
		if err := h.checkLimits(pad); err != nil {
			return nil, fmt.Errorf("%w: LegacyPad entry over the limits: %w", ErrInvalidConfig, err)
		}
	}
	if h.rand == nil {
		h.rand = rand.Reader
	}
	n := cfg.MaxConcurrent
	if n <= 0 {
		n = max(2, runtime.NumCPU()/int(p.Parallelism))
	}
	h.sem = make(chan struct{}, n)
	add := func(pp Pepper) error {
		if len(pp.ID) == 0 || len(pp.ID) > 8 || len(pp.Key) < 32 {
			return fmt.Errorf("%w: pepper id must be 1-8 bytes and key at least 32 bytes", ErrInvalidConfig)
		}
		if _, dup := h.peppers[pp.ID]; dup {
			return fmt.Errorf("%w: duplicate pepper id", ErrInvalidConfig)
		}
		h.peppers[pp.ID] = append([]byte(nil), pp.Key...)
		return nil
	}
	if cfg.Pepper != nil {
		if err := add(*cfg.Pepper); err != nil {
			return nil, err
		}
		h.pepper = &Pepper{ID: cfg.Pepper.ID, Key: h.peppers[cfg.Pepper.ID]}
	}
	for _, pp := range cfg.OldPeppers {
		if err := add(pp); err != nil {
			return nil, err
		}
	}
	saltTag := make([]byte, p.SaltLen+p.KeyLen)
	if _, err := io.ReadFull(rand.Reader, saltTag); err != nil {
		return nil, fmt.Errorf("password: reading randomness: %w", err)
	}
	keyID := ""
	if h.pepper != nil {
		keyID = h.pepper.ID
	}
	h.dummy = encodeArgon2(p, keyID, saltTag[:p.SaltLen], saltTag[p.SaltLen:])
	return h, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

func (h *Hasher) emit(ctx context.Context, e Event) {
	if h.hook != nil {
		e.Time = h.now().UTC()
		h.hook(ctx, e)
	}
}

// pepperOf returns the pepper with this id (nil for ""), or
// ErrUnknownPepper.
func (h *Hasher) pepperOf(keyID string) ([]byte, error) {
	if keyID == "" {
		return nil, nil
	}
	p, ok := h.peppers[keyID]
	if !ok {
		return nil, ErrUnknownPepper
	}
	return p, nil
}

// kdfInput returns the bytes argon2 sees: the NFKC password, or its
// HMAC-SHA256 under the pepper.
func kdfInput(pw string, pepper []byte) []byte {
	if pepper == nil {
		return []byte(pw)
	}
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(pw))
	return m.Sum(nil)
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// Hash returns the argon2id PHC string of the NFKC-normalised password,
// with a fresh random salt and the current pepper. It waits for a free slot
// first, returning ctx's error if ctx ends while waiting. It does not apply a
// [Policy]; check the password first. Input that is not valid UTF-8 is
// hashed as given (it cannot be normalised), and input over [maxBytes]
// returns [ErrTooLong].
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > maxBytes {
		return "", ErrTooLong
	}
	pw := Normalize(password)
	if len(pw) > maxBytes {
		return "", ErrTooLong
	}
	keyID, salt, tag, err := h.newTag(ctx, pw)
	if err != nil {
		return "", err
	}
	return encodeArgon2(h.params, keyID, salt, tag), nil
}

// newTag runs argon2id at the current parameters and pepper over input
// with a fresh salt, in a concurrency slot.
func (h *Hasher) newTag(ctx context.Context, input string) (keyID string, salt, tag []byte, err error) {
	salt = make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", nil, nil, fmt.Errorf("password: reading salt: %w", err)
	}
	var key []byte
	if h.pepper != nil {
		key, keyID = h.pepper.Key, h.pepper.ID
	}
	if err := h.acquire(ctx); err != nil {
		return "", nil, nil, err
	}
	in := kdfInput(input, key)
	tag = argon2.IDKey(in, salt, h.params.Time, h.params.Memory, h.params.Parallelism, h.params.KeyLen)
	h.release()
	wipe(in)
	return keyID, salt, tag, nil
}

// Verify checks password against an encoded hash: argon2id (this package's
// format or the reference implementation's), bcrypt ($2a$, $2b$, $2y$) or
// scrypt ($scrypt$ln=,r=,p=$salt$hash, the passlib format). It returns nil
// on a match, [ErrMismatch] on a mismatch, and otherwise an error wrapping
// [ErrMalformedHash], [ErrParamsTooLarge], [ErrUnknownPepper], [ErrTooLong]
// or ctx's error — never nil for an empty, malformed or unknown hash.
// The comparison of derived keys is constant-time.
//
// bcrypt only reads the first 72 bytes of its input. Legacy bcrypt hashes
// were made from the first 72 bytes of longer passwords, so Verify
// deliberately compares only those bytes, as the system that made the hash
// did; [Hasher.NeedsRehash] always reports bcrypt hashes, and the argon2id
// hash that replaces one uses the whole password. Legacy hashes are tried
// with the NFKC password and, if it differs, the password exactly as given,
// since other systems may not have normalised.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) error {
	if len(password) > maxBytes {
		return ErrTooLong
	}
	pw := Normalize(password)
	if len(pw) > maxBytes {
		return ErrTooLong
	}
	p, err := parseHash(encoded)
	if err != nil {
		return err
	}
	if err := h.checkLimits(p); err != nil {
		h.emit(ctx, Event{Type: EventLimitExceeded, Algorithm: p.alg, Err: err})
		return err
	}
	if p.alg == algOnion {
		err := h.verifyOnion(ctx, p, pw)
		if errors.Is(err, ErrMismatch) && pw != password {
			err = h.verifyOnion(ctx, p, password)
		}
		return err
	}
	if p.alg == algArgon2id {
		pepper, err := h.pepperOf(p.keyID)
		if err != nil {
			return err
		}
		if err := h.acquire(ctx); err != nil {
			return err
		}
		h.pad(pw, -1)
		in := kdfInput(pw, pepper)
		tag := argon2.IDKey(in, p.salt, p.time, p.memory, uint8(p.par), uint32(len(p.hash)))
		h.work.Add(1)
		wipe(in)
		match := subtle.ConstantTimeCompare(tag, p.hash) == 1
		if !match && len(h.pads) > 0 && pw != password {
			// An onion that does not match is tried again with the
			// password as given: do that work here too (its result
			// unused), or a password that normalisation changes would
			// tell wrapped accounts from the others by timing.
			h.pad(password, -1)
			in := kdfInput(password, pepper)
			wipe(argon2.IDKey(in, p.salt, p.time, p.memory, uint8(p.par), uint32(len(p.hash))))
			h.work.Add(1)
			wipe(in)
		}
		h.release()
		if !match {
			return ErrMismatch
		}
		return nil
	}
	err = h.verifyLegacy(ctx, p, pw, encoded)
	if errors.Is(err, ErrMismatch) && pw != password {
		err = h.verifyLegacy(ctx, p, password, encoded)
	}
	if err == nil {
		h.emit(ctx, Event{Type: EventLegacyVerified, Algorithm: p.alg})
	}
	return err
}

func (h *Hasher) verifyLegacy(ctx context.Context, p *parsed, pw, encoded string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	switch p.alg {
	case algBcrypt:
		in := []byte(pw)
		if len(in) > bcryptMaxBytes {
			in = in[:bcryptMaxBytes]
		}
		err := bcrypt.CompareHashAndPassword([]byte(encoded), in)
		wipe(in)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return ErrMismatch
		}
		return ErrMalformedHash
	case algScrypt:
		in := []byte(pw)
		dk, err := scrypt.Key(in, p.salt, 1<<p.logN, int(p.r), int(p.par), len(p.hash))
		wipe(in)
		if err != nil {
			return ErrMalformedHash
		}
		if subtle.ConstantTimeCompare(dk, p.hash) != 1 {
			return ErrMismatch
		}
		return nil
	}
	return ErrMalformedHash
}

func (h *Hasher) checkLimits(p *parsed) error {
	l := h.limits
	tooLarge := func(what string) error { return fmt.Errorf("%w: %s", ErrParamsTooLarge, what) }
	if p.alg == algOnion {
		outer := *p
		outer.alg, outer.inner = algArgon2id, nil
		if err := h.checkLimits(&outer); err != nil {
			return err
		}
		return h.checkLimits(p.inner)
	}
	switch p.alg {
	case algArgon2id:
		switch {
		case p.memory > l.MaxMemory:
			return tooLarge("memory")
		case p.time > l.MaxTime:
			return tooLarge("time")
		case p.par > l.MaxParallelism || p.par > 255:
			return tooLarge("parallelism")
		}
	case algScrypt:
		// scrypt needs 128·r·N bytes and p times that much work: bound the
		// memory like argon2's, and the work by MaxTime passes over MaxMemory.
		if p.logN > 30 || p.r > 64 {
			return tooLarge("memory")
		}
		if mem := (uint64(128) * uint64(p.r) << p.logN) / 1024; mem > uint64(l.MaxMemory) {
			return tooLarge("memory")
		}
		if p.par > l.MaxParallelism {
			return tooLarge("parallelism")
		}
		if uint64(p.par)*((uint64(128)*uint64(p.r)<<p.logN)/1024) > uint64(l.MaxTime)*uint64(l.MaxMemory) {
			return tooLarge("time")
		}
	case algBcrypt:
		if p.cost > l.MaxBcryptCost {
			return tooLarge("cost")
		}
		return nil
	}
	hashLen := uint32(len(p.hash))
	if p.keyLen > 0 { // an onion's inner setting
		hashLen = p.keyLen
	}
	switch {
	case uint32(len(p.salt)) > l.MaxSaltLen:
		return tooLarge("salt length")
	case hashLen > l.MaxKeyLen:
		return tooLarge("hash length")
	case uint32(len(p.salt)) < l.MinSaltLen, hashLen < l.MinKeyLen:
		return ErrMalformedHash
	}
	return nil
}

// NeedsRehash reports whether encoded should be replaced by a fresh
// [Hasher.Hash] of the password (after a successful [Hasher.Verify]): it was
// made with another algorithm, an argon2id version other than 19, weaker
// parameters (memory, time, salt or tag length) or different parallelism
// than the hasher's, or without the current pepper or with an old one. A
// malformed hash also needs replacing, so it reports true.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, err := parseHash(encoded)
	if err != nil || p.alg != algArgon2id {
		return true
	}
	cur := h.params
	wantKeyID := ""
	if h.pepper != nil {
		wantKeyID = h.pepper.ID
	}
	return p.memory < cur.Memory || p.time < cur.Time || p.par != uint32(cur.Parallelism) ||
		uint32(len(p.salt)) < cur.SaltLen || uint32(len(p.hash)) < cur.KeyLen ||
		p.keyID != wantKeyID
}

// VerifyNone does the work of a [Hasher.Verify] at the hasher's current
// parameters against a hash no password matches, and returns [ErrMismatch]
// (or ctx's error). Call it when the account does not exist, so a login for
// an unknown user takes as long as one for a known user (ASVS 5.0 6.3.8,
// no enumeration by timing). The dummy hash has the current parameters and
// pepper id and a random salt and tag from crypto/rand, so finding a
// matching password would mean inverting argon2id.
func (h *Hasher) VerifyNone(ctx context.Context, password string) error {
	if err := h.Verify(ctx, password, h.dummy); err != nil && !errors.Is(err, ErrMismatch) {
		return err
	}
	return ErrMismatch
}

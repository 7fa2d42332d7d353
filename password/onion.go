package password

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blowfish" //nolint:staticcheck // bcrypt is blowfish-based; only legacy hashes are recomputed with it
	"golang.org/x/crypto/scrypt"
)

// algOnion names an argon2id hash wrapped around a legacy hash's output
// (a hash onion); see [Hasher.Wrap] and the package doc, "Hash onions".
const algOnion = "argon2id-onion"

// onionDomain separates the onion's argon2id input from any password.
const onionDomain = "bulwark/password/onion/v1\x00"

// bcryptB64 is bcrypt's base64 alphabet (no padding).
var bcryptB64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// bcryptMagic is the text bcrypt encrypts 64 times.
var bcryptMagic = []byte("OrpheanBeholderScryDoubt")

// bcryptRaw is bcrypt's output for key (at most 72 bytes) with a 16-byte
// salt at cost: the 23 bytes a bcrypt hash string encodes after its salt.
// x/crypto/bcrypt cannot hash with a given salt, which an onion needs, so
// the algorithm is spelled out here (Provos and Mazières, "A
// Future-Adaptable Password Scheme", 1999) on x/crypto's blowfish, and a
// test checks it against x/crypto/bcrypt.
func bcryptRaw(key []byte, cost int, salt []byte) ([]byte, error) {
	ckey := make([]byte, len(key)+1) // bcrypt hashes the key with its NUL
	copy(ckey, key)
	defer wipe(ckey)
	c, err := blowfish.NewSaltedCipher(ckey, salt)
	if err != nil {
		return nil, err
	}
	for range uint64(1) << cost {
		blowfish.ExpandKey(ckey, c)
		blowfish.ExpandKey(salt, c)
	}
	out := append([]byte(nil), bcryptMagic...)
	for i := 0; i < len(out); i += 8 {
		for range 64 {
			c.Encrypt(out[i:i+8], out[i:i+8])
		}
	}
	return out[:23], nil
}

// parseOnion decodes
//
//	$argon2id-onion$v=19$m=<KiB>,t=<passes>,p=<lanes>[,keyid=<B64>]$<B64 salt>$<B64 tag>$<inner alg>$<inner params>$<inner salt>
//
// where the inner part is the legacy hash without its output:
//
//	bcrypt$v=<2a|2b|2y>,c=<cost>$<22 characters of bcrypt salt>
//	scrypt$ln=<log2 N>,r=<r>,p=<p>,l=<output bytes>$<B64 salt>
//	argon2id$m=<KiB>,t=<passes>,p=<lanes>,l=<output bytes>[,keyid=<B64>]$<B64 salt>
func parseOnion(parts []string) (*parsed, error) {
	outer := []string{"", algArgon2id, parts[2], parts[3], parts[4], parts[5]}
	p, err := parseArgon2(outer)
	if err != nil {
		return nil, err
	}
	p.alg = algOnion
	if parts[8] == "" { // only a LegacyPad setting has no salt
		return nil, ErrMalformedHash
	}
	if p.inner, err = parseInner(parts[6], parts[7], parts[8]); err != nil {
		return nil, err
	}
	return p, nil
}

// parseInner decodes an onion's inner setting; salt may be "" for a pad
// setting (see Config.LegacyPad), which gets a fixed salt.
func parseInner(alg, params, salt string) (*parsed, error) {
	kv := strings.Split(params, ",")
	switch alg {
	case algBcrypt:
		if len(kv) != 2 {
			return nil, ErrMalformedHash
		}
		v, ok := strings.CutPrefix(kv[0], "v=")
		if !ok || (v != "2a" && v != "2b" && v != "2y") {
			return nil, ErrMalformedHash
		}
		c, ok := strings.CutPrefix(kv[1], "c=")
		cost, err := parseUint(c)
		if !ok || err != nil || cost < 4 || cost > 31 {
			return nil, ErrMalformedHash
		}
		p := &parsed{alg: algBcrypt, variant: v, cost: int(cost), bsalt: salt}
		if salt == "" {
			p.bsalt = strings.Repeat("A", 22)
		}
		if len(p.bsalt) != 22 {
			return nil, ErrMalformedHash
		}
		if p.salt, err = bcryptB64.DecodeString(p.bsalt); err != nil || len(p.salt) != 16 {
			return nil, ErrMalformedHash
		}
		return p, nil
	case algScrypt:
		vals, err := parseParams(kv, "ln", "r", "p", "l")
		if err != nil || vals[0] == 0 || vals[1] == 0 || vals[2] == 0 || vals[3] == 0 {
			return nil, ErrMalformedHash
		}
		p := &parsed{alg: algScrypt, logN: vals[0], r: vals[1], par: vals[2], keyLen: vals[3]}
		return p, decodeInnerSalt(p, salt)
	case algArgon2id:
		if len(kv) != 4 && len(kv) != 5 {
			return nil, ErrMalformedHash
		}
		vals, err := parseParams(kv[:4], "m", "t", "p", "l")
		if err != nil {
			return nil, err
		}
		p := &parsed{alg: algArgon2id, version: 19, memory: vals[0], time: vals[1], par: vals[2], keyLen: vals[3]}
		if len(kv) == 5 {
			val, ok := strings.CutPrefix(kv[4], "keyid=")
			id, err := b64.DecodeString(val)
			if !ok || err != nil || strings.ContainsAny(val, "\r\n") || len(id) == 0 || len(id) > 8 {
				return nil, ErrMalformedHash
			}
			p.keyID = string(id)
		}
		if p.time < 1 || p.par < 1 || p.memory < 8*p.par || p.keyLen == 0 {
			return nil, ErrMalformedHash
		}
		return p, decodeInnerSalt(p, salt)
	}
	return nil, ErrMalformedHash
}

func decodeInnerSalt(p *parsed, salt string) error {
	if salt == "" {
		p.salt = make([]byte, 16)
		return nil
	}
	var err error
	if strings.ContainsAny(salt, "\r\n") {
		return ErrMalformedHash
	}
	if p.salt, err = b64.DecodeString(salt); err != nil {
		return ErrMalformedHash
	}
	return nil
}

// innerSetting is the inner part's algorithm and parameters, without salt:
// the form of [Config.LegacyPad] entries and of [InnerSetting].
func innerSetting(p *parsed) string {
	switch p.alg {
	case algBcrypt:
		return fmt.Sprintf("bcrypt$v=%s,c=%d", p.variant, p.cost)
	case algScrypt:
		return fmt.Sprintf("scrypt$ln=%d,r=%d,p=%d,l=%d", p.logN, p.r, p.par, p.keyLen)
	}
	kid := ""
	if p.keyID != "" {
		kid = ",keyid=" + b64.EncodeToString([]byte(p.keyID))
	}
	return fmt.Sprintf("argon2id$m=%d,t=%d,p=%d,l=%d%s", p.memory, p.time, p.par, p.keyLen, kid)
}

func encodeOnion(outer Params, keyID string, salt, tag []byte, in *parsed) string {
	s := encodeArgon2(outer, keyID, salt, tag)
	s = "$" + algOnion + strings.TrimPrefix(s, "$"+algArgon2id)
	innerSalt := in.bsalt
	if in.alg != algBcrypt {
		innerSalt = b64.EncodeToString(in.salt)
	}
	return s + "$" + innerSetting(in) + "$" + innerSalt
}

// sameCost reports whether two inner settings cost the same work.
func sameCost(a, b *parsed) bool {
	return a.alg == b.alg && a.cost == b.cost && a.logN == b.logN && a.r == b.r &&
		a.par == b.par && a.memory == b.memory && a.time == b.time && a.keyLen == b.keyLen
}

// innerOutput computes the legacy hash's output for pw under the inner
// setting in (the caller holds a concurrency slot).
func (h *Hasher) innerOutput(pw string, in *parsed) ([]byte, error) {
	key := []byte(pw)
	defer wipe(key)
	h.work.Add(1)
	switch in.alg {
	case algBcrypt:
		if len(key) > bcryptMaxBytes {
			key = key[:bcryptMaxBytes]
		}
		return bcryptRaw(key, in.cost, in.salt)
	case algScrypt:
		out, err := scrypt.Key(key, in.salt, 1<<in.logN, int(in.r), int(in.par), int(in.keyLen))
		if err != nil {
			return nil, ErrMalformedHash
		}
		return out, nil
	case algArgon2id:
		pepper, err := h.pepperOf(in.keyID)
		if err != nil {
			return nil, err
		}
		kin := kdfInput(pw, pepper)
		defer wipe(kin)
		return argon2.IDKey(kin, in.salt, in.time, in.memory, uint8(in.par), in.keyLen), nil
	}
	return nil, ErrMalformedHash
}

// onionInput is what the onion's argon2id hashes: the inner output, bound
// to its algorithm and to this construction.
func onionInput(alg string, out []byte) string {
	return onionDomain + alg + "\x00" + string(out)
}

// pad does the inner work of every [Config.LegacyPad] setting but skip
// (-1: none) on pw, so that every verification costs the same whatever the
// stored hash (the caller holds a concurrency slot).
func (h *Hasher) pad(pw string, skip int) {
	for i, p := range h.pads {
		if i != skip {
			if out, err := h.innerOutput(pw, p); err == nil {
				wipe(out)
			}
		}
	}
}

// padIndex returns the LegacyPad entry that costs what in costs, or -1.
func (h *Hasher) padIndex(in *parsed) int {
	for i, p := range h.pads {
		if sameCost(p, in) {
			return i
		}
	}
	return -1
}

// verifyOnion checks pw against an onion: the legacy output recomputed
// from pw, then argon2id over it.
func (h *Hasher) verifyOnion(ctx context.Context, p *parsed, pw string) error {
	pepper, err := h.pepperOf(p.keyID)
	if err != nil {
		return err
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	h.pad(pw, h.padIndex(p.inner))
	out, err := h.innerOutput(pw, p.inner)
	if err != nil {
		return err
	}
	in := kdfInput(onionInput(p.inner.alg, out), pepper)
	wipe(out)
	tag := argon2.IDKey(in, p.salt, p.time, p.memory, uint8(p.par), uint32(len(p.hash)))
	h.work.Add(1)
	wipe(in)
	if subtle.ConstantTimeCompare(tag, p.hash) != 1 {
		return ErrMismatch
	}
	return nil
}

// Wrap returns a hash onion of a legacy or weaker hash: argon2id at the
// hasher's current parameters and pepper over the stored hash's output,
// with the legacy algorithm, parameters and salt recorded so that
// [Hasher.Verify] recomputes the legacy output from the password first. It
// needs no password, so a host can upgrade every stored hash at once,
// offline, instead of waiting for each owner to log in (see auth's
// UpgradeHashes). The legacy hash's output is not kept: cracking the onion
// costs the legacy work plus argon2id per guess.
//
// Wrap returns encoded unchanged when there is nothing to wrap: a hash at
// the current argon2id parameters ([Hasher.NeedsRehash] false) or an onion
// already. It returns an error wrapping [ErrMalformedHash],
// [ErrParamsTooLarge] or [ErrUnknownPepper] for a hash Verify would refuse,
// or ctx's error. [Hasher.NeedsRehash] reports every onion, so the first
// successful login replaces it with a plain argon2id hash of the password.
func (h *Hasher) Wrap(ctx context.Context, encoded string) (string, error) {
	p, err := parseHash(encoded)
	if err != nil {
		return "", err
	}
	if p.alg == algOnion || (p.alg == algArgon2id && !h.NeedsRehash(encoded)) {
		return encoded, nil
	}
	if err := h.checkLimits(p); err != nil {
		return "", err
	}
	in := &parsed{alg: p.alg, cost: p.cost, logN: p.logN, r: p.r, par: p.par, memory: p.memory, time: p.time,
		keyID: p.keyID, salt: p.salt, keyLen: uint32(len(p.hash))}
	out := p.hash
	switch p.alg {
	case algBcrypt:
		in.variant, in.bsalt = encoded[1:3], encoded[7:29]
		if in.salt, err = bcryptB64.DecodeString(in.bsalt); err != nil || len(in.salt) != 16 {
			return "", ErrMalformedHash
		}
		// x/crypto/bcrypt compares the output as text: one with stray low
		// bits in its last character matches no password, and its onion
		// must not match one either.
		if out, err = bcryptB64.DecodeString(encoded[29:]); err != nil || len(out) != 23 ||
			bcryptB64.EncodeToString(out) != encoded[29:] {
			return "", ErrMalformedHash
		}
		in.keyLen = 0
	case algArgon2id:
		if _, err := h.pepperOf(p.keyID); err != nil {
			return "", err
		}
	}
	keyID, salt, tag, err := h.newTag(ctx, onionInput(in.alg, out))
	if err != nil {
		return "", err
	}
	onion := encodeOnion(h.params, keyID, salt, tag, in)
	// A legacy hash no password matches (bcrypt cost below 4, scrypt N = 1)
	// gives an onion the parser refuses: refuse it here, leaving the stored
	// hash as it is, rather than write a hash that can never be read.
	if _, err := parseHash(onion); err != nil {
		return "", err
	}
	return onion, nil
}

// InnerSetting returns the legacy setting (algorithm and parameters, no
// salt) of an onion or of a legacy hash, in the form [Config.LegacyPad]
// takes, such as "bcrypt$v=2b,c=10"; "" for anything else. A host that
// wraps its legacy hashes lists every distinct setting in LegacyPad.
func InnerSetting(encoded string) string {
	p, err := parseHash(encoded)
	if err != nil {
		return ""
	}
	switch p.alg {
	case algOnion:
		return innerSetting(p.inner)
	case algBcrypt:
		return innerSetting(&parsed{alg: algBcrypt, variant: encoded[1:3], cost: p.cost})
	case algScrypt, algArgon2id:
		q := *p
		q.keyLen = uint32(len(p.hash))
		return innerSetting(&q)
	}
	return ""
}

// parsePads reads Config.LegacyPad.
func parsePads(settings []string) ([]*parsed, error) {
	var out []*parsed
	for _, s := range settings {
		alg, params, ok := strings.Cut(s, "$")
		if !ok {
			return nil, fmt.Errorf("%w: LegacyPad entry %s", ErrInvalidConfig, strconv.Quote(s))
		}
		p, err := parseInner(alg, params, "")
		if err != nil {
			return nil, fmt.Errorf("%w: LegacyPad entry %s", ErrInvalidConfig, strconv.Quote(s))
		}
		out = append(out, p)
	}
	return out, nil
}

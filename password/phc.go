package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()

// Algorithm names as they appear in encoded hashes and in
// [Event].Algorithm.
const (
	algArgon2id = "argon2id"
	algBcrypt   = "bcrypt"
	algScrypt   = "scrypt"
)

// parsed is a decoded hash string. Fields not used by an algorithm are zero.
type parsed struct {
	alg     string
	version int
	memory  uint32 // argon2: KiB
	time    uint32 // argon2: passes
	par     uint32 // argon2: lanes; scrypt: p
	logN    uint32 // scrypt
	r       uint32 // scrypt
	cost    int    // bcrypt
	keyID   string // pepper id, argon2 only
	salt    []byte
	hash    []byte

	variant string  // bcrypt inner: "2a", "2b" or "2y"
	bsalt   string  // bcrypt inner: the salt in bcrypt's base64
	keyLen  uint32  // onion inner (scrypt, argon2id): output bytes
	inner   *parsed // onion: the legacy setting
}

// parseHash decodes an encoded hash without applying limits. It accepts:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>[,keyid=<B64>]$<B64 salt>$<B64 hash>
//	$scrypt$ln=<log2 N>,r=<r>,p=<p>$<B64 salt>$<B64 hash>
//	$2a$ / $2b$ / $2y$ bcrypt (decoded by x/crypto/bcrypt; only the cost is read here)
//	$argon2id-onion$... a hash onion (see parseOnion)
func parseHash(s string) (*parsed, error) {
	if len(s) > 1024 || !strings.HasPrefix(s, "$") {
		return nil, ErrMalformedHash
	}
	if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
		// $2x$NN$ + 53 characters of salt and hash.
		if len(s) != 60 || s[6] != '$' {
			return nil, ErrMalformedHash
		}
		if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
			return nil, ErrMalformedHash
		}
		cost := int(s[4]-'0')*10 + int(s[5]-'0')
		return &parsed{alg: algBcrypt, cost: cost}, nil
	}
	parts := strings.Split(s, "$")
	switch {
	case len(parts) == 6 && parts[1] == algArgon2id:
		return parseArgon2(parts)
	case len(parts) == 5 && parts[1] == algScrypt:
		return parseScrypt(parts)
	case len(parts) == 9 && parts[1] == algOnion:
		return parseOnion(parts)
	}
	return nil, ErrMalformedHash
}

func parseArgon2(parts []string) (*parsed, error) {
	p := &parsed{alg: algArgon2id}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return nil, ErrMalformedHash
	}
	ver, err := parseUint(v)
	if err != nil || ver != 19 { // x/crypto implements version 0x13 only
		return nil, ErrMalformedHash
	}
	p.version = int(ver)
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 && len(kv) != 4 {
		return nil, ErrMalformedHash
	}
	vals, err := parseParams(kv[:3], "m", "t", "p")
	if err != nil {
		return nil, err
	}
	p.memory, p.time, p.par = vals[0], vals[1], vals[2]
	if len(kv) == 4 {
		val, ok := strings.CutPrefix(kv[3], "keyid=")
		if !ok {
			return nil, ErrMalformedHash
		}
		id, err := b64.DecodeString(val)
		if err != nil || strings.ContainsAny(val, "\r\n") || len(id) == 0 || len(id) > 8 { // PHC: keyid is at most 8 bytes
			return nil, ErrMalformedHash
		}
		p.keyID = string(id)
	}
	if p.time < 1 || p.par < 1 || p.memory < 8*p.par {
		return nil, ErrMalformedHash
	}
	return p, decodeSaltHash(p, parts[4], parts[5])
}

func parseScrypt(parts []string) (*parsed, error) {
	p := &parsed{alg: algScrypt}
	vals, err := parseParams(strings.Split(parts[2], ","), "ln", "r", "p")
	if err != nil || vals[0] == 0 || vals[1] == 0 || vals[2] == 0 {
		return nil, ErrMalformedHash
	}
	p.logN, p.r, p.par = vals[0], vals[1], vals[2]
	return p, decodeSaltHash(p, parts[3], parts[4])
}

// parseParams reads "name=decimal" pairs in exactly the given order.
func parseParams(kv []string, names ...string) ([]uint32, error) {
	if len(kv) != len(names) {
		return nil, ErrMalformedHash
	}
	vals := make([]uint32, len(names))
	for i, name := range names {
		val, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return nil, ErrMalformedHash
		}
		n, err := parseUint(val)
		if err != nil {
			return nil, ErrMalformedHash
		}
		vals[i] = n
	}
	return vals, nil
}

func decodeSaltHash(p *parsed, salt, hash string) error {
	// encoding/base64 skips CR and LF even in strict mode; PHC has neither.
	if strings.ContainsAny(salt, "\r\n") || strings.ContainsAny(hash, "\r\n") {
		return ErrMalformedHash
	}
	var err error
	if p.salt, err = b64.DecodeString(salt); err != nil {
		return ErrMalformedHash
	}
	if p.hash, err = b64.DecodeString(hash); err != nil {
		return ErrMalformedHash
	}
	return nil
}

// parseUint parses a PHC decimal: digits only, no sign, no leading zero,
// at most 10 digits, fitting in uint32.
func parseUint(s string) (uint32, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrMalformedHash
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrMalformedHash
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, ErrMalformedHash
	}
	return uint32(n), nil
}

func encodeArgon2(p Params, keyID string, salt, key []byte) string {
	kid := ""
	if keyID != "" {
		kid = ",keyid=" + b64.EncodeToString([]byte(keyID))
	}
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d%s$%s$%s",
		p.Memory, p.Time, p.Parallelism, kid, b64.EncodeToString(salt), b64.EncodeToString(key))
}

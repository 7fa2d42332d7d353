package mfatest

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA-1 is RFC 6238's default and is not a collision use.
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// Code computes the RFC 6238 TOTP code for a raw secret at time t, as an
// authenticator app would: what tests, examples and tools type in after an
// [mfa.Manager.EnrollTOTP]. digits must be 6 or 8, period whole seconds of
// at least 1 s, and t not before 1970.
func Code(secret []byte, alg mfa.Algorithm, digits int, period time.Duration, t time.Time) (string, error) {
	var h func() hash.Hash
	switch alg {
	case mfa.SHA1:
		h = sha1.New
	case mfa.SHA256:
		h = sha256.New
	case mfa.SHA512:
		h = sha512.New
	}
	if h == nil || (digits != 6 && digits != 8) || period < time.Second || period%time.Second != 0 || t.Unix() < 0 {
		return "", errors.New("mfatest: Code: invalid parameters")
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix())/uint64(period/time.Second))
	mac := hmac.New(h, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1_000_000)
	if digits == 8 {
		mod = 100_000_000
	}
	return fmt.Sprintf("%0*d", digits, v%mod), nil
}

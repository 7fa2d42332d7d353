package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
)

// tokenBytes is the size of reset and pending tokens: 256 bits, above the
// 128 bits of ASVS 5.0 11.5.1 and 7.2.3.
const tokenBytes = 32

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func randInt(r io.Reader, max *big.Int) (int64, error) {
	n, err := rand.Int(r, max)
	if err != nil {
		return 0, err
	}
	return n.Int64(), nil
}

// newToken returns a random URL-safe token and its SHA-256.
func newToken(r io.Reader) (string, []byte, error) {
	var b [tokenBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", nil, fmt.Errorf("auth: random token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

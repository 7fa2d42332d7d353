package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KEK is a key-encryption key: it wraps and unwraps data-encryption keys.
// A KMS (AWS KMS, Google Cloud KMS, Vault transit...) fits by calling its
// Encrypt and Decrypt operations here; see the KEK example. [NewLocalKEK] and
// [NewPassphraseKEK] return the implementations this package ships.
//
// associatedData binds a wrapped key to its record (subject and key id); an
// implementation must authenticate it, so that a wrapped key copied into
// another record fails to unwrap. Unwrap should return an error matching
// [ErrWrongKEK] when authentication fails. Implementations must be safe for
// concurrent use.
type KEK interface {
	Wrap(ctx context.Context, key, associatedData []byte) ([]byte, error)
	Unwrap(ctx context.Context, wrapped, associatedData []byte) ([]byte, error)
}

// masterKeySize is the size of a [NewLocalKEK] master key: 256 bits, the AES-256
// key size (NIST SP 800-57 Part 1 recommends at least 128-bit security).
const masterKeySize = 32

const (
	wrapLocalV1      = 0x01
	wrapPassphraseV1 = 0x02
	gcmNonceSize     = 12
	gcmTagSize       = 16
)

// localKEK is the KEK [NewLocalKEK] returns.
type localKEK struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewLocalKEK returns a KEK held in process memory: AES-256-GCM under a 256-bit
// master key, loaded from an environment variable or a file, with a random
// 96-bit nonce per wrap. Wrapped keys are
//
//	0x01 | nonce (12) | AES-256-GCM(master, nonce, dek, associatedData) (dek + 16)
//
// Keep the master key out of the database and its backups (an environment
// secret, a mounted secret file, a secrets manager), so that a database
// leak yields wrapped keys only.
//
// It takes a 32-byte (256-bit) master key, and returns an error for any
// other length. It keeps an AES key schedule, not the slice;
// the caller may zero key afterwards. [LocalKEKFromEnv] and
// [LocalKEKFromFile] load the key and call it.
func NewLocalKEK(key []byte) (KEK, error) {
	if len(key) != masterKeySize {
		return nil, errInvalidMasterKey
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &localKEK{aead: aead, rand: rand.Reader}, nil
}

// GenerateMasterKey returns a new random 256-bit master key (crypto/rand)
// for [NewLocalKEK]. To keep it in a secret manager, store
// hex.EncodeToString(k.Bytes()); [ParseMasterKey] reads it back.
func GenerateMasterKey() Secret {
	k := make([]byte, masterKeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return secretOwning(k)
}

// ParseMasterKey decodes a 256-bit master key written as 64 hex digits or
// as base64 (standard or URL alphabet, padded or not), as read from an
// environment variable or a secret file (which should be readable by the
// app's user only). Surrounding white space is ignored. Anything else,
// including an empty string, returns an error.
func ParseMasterKey(text string) (Secret, error) {
	text = strings.TrimSpace(text)
	if len(text) == 2*masterKeySize {
		if b, err := hex.DecodeString(text); err == nil {
			return secretOwning(b), nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) == masterKeySize {
			return secretOwning(b), nil
		}
	}
	return Secret{}, errInvalidMasterKey
}

// LocalKEKFromEnv loads a [NewLocalKEK] master key from the environment variable name
// (see [ParseMasterKey] for the encodings).
func LocalKEKFromEnv(name string) (KEK, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("keyring: environment variable %s is not set: %w", name, errInvalidMasterKey)
	}
	return localKEKFromText(v)
}

// LocalKEKFromFile loads a [NewLocalKEK] master key from the file at path, which holds the
// key in hex or base64 (see [ParseMasterKey]). The file should be readable
// by the app's user only.
func LocalKEKFromFile(path string) (KEK, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the host names its own key file
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key file: %w", err)
	}
	defer clear(b)
	return localKEKFromText(string(b))
}

func localKEKFromText(text string) (KEK, error) {
	k, err := ParseMasterKey(text)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	return NewLocalKEK(k.Bytes())
}

// Wrap encrypts key under the master key, binding associatedData.
func (k *localKEK) Wrap(_ context.Context, key, associatedData []byte) ([]byte, error) {
	return gcmWrap(k.aead, k.rand, []byte{wrapLocalV1}, key, associatedData)
}

// Unwrap decrypts a key wrapped by Wrap with the same master key
// and associatedData; otherwise it returns ErrWrongKEK.
func (k *localKEK) Unwrap(_ context.Context, wrapped, associatedData []byte) ([]byte, error) {
	if len(wrapped) < 1 || wrapped[0] != wrapLocalV1 {
		return nil, ErrWrongKEK
	}
	return gcmUnwrap(k.aead, wrapped[:1], wrapped[1:], associatedData)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return aead, nil
}

// gcmWrap returns header | nonce | seal(key, header | ad).
func gcmWrap(aead cipher.AEAD, r io.Reader, header, key, ad []byte) ([]byte, error) {
	out := make([]byte, len(header)+gcmNonceSize, len(header)+gcmNonceSize+len(key)+gcmTagSize)
	copy(out, header)
	nonce := out[len(header):]
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("keyring: random nonce: %w", err)
	}
	return aead.Seal(out, nonce, key, append(append([]byte(nil), header...), ad...)), nil
}

// gcmUnwrap opens body = nonce | ciphertext, authenticating header | ad.
func gcmUnwrap(aead cipher.AEAD, header, body, ad []byte) ([]byte, error) {
	if len(body) < gcmNonceSize+gcmTagSize {
		return nil, ErrWrongKEK
	}
	key, err := aead.Open(nil, body[:gcmNonceSize], body[gcmNonceSize:], append(append([]byte(nil), header...), ad...))
	if err != nil {
		return nil, ErrWrongKEK
	}
	return key, nil
}

var errNilKEK = errors.New("keyring: nil KEK")

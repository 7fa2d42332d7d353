package keyring

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
)

var b64 = base64.RawURLEncoding

// EncryptString seals s (see [Keyring.Seal]) and returns the ciphertext as
// unpadded base64url text, for a TEXT column.
func (k *Keyring) EncryptString(ctx context.Context, s string, associatedData []byte) (string, error) {
	ct, err := k.Seal(ctx, []byte(s), associatedData)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(ct), nil
}

// DecryptString opens text from [Keyring.EncryptString]. Text that is not
// base64url returns ErrTruncated; other errors are as for [Keyring.Open].
func (k *Keyring) DecryptString(ctx context.Context, text string, associatedData []byte) (string, error) {
	ct, err := b64.DecodeString(text)
	if err != nil {
		return "", ErrTruncated
	}
	pt, err := k.Open(ctx, ct, associatedData)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// blindIndexKeys caches the blind-index root key and the per-domain HMAC
// keys derived from it.
type blindIndexKeys struct {
	mu      sync.Mutex
	root    []byte
	derived sync.Map // domain -> []byte
}

// BlindIndex returns HMAC-SHA256(K_domain, value), a 32-byte deterministic
// token to store beside an encrypted field so the host can find rows by
// equality (WHERE email_bidx = $1) without decrypting. K_domain is derived
// with HKDF-SHA256 (RFC 5869) from a blind-index key that is separate from
// the data keys (stored wrapped, as key id 0, created on first use, never
// rotated by [Admin.Rotate]), with domain (e.g. "users.email") in the info, so
// tokens of different columns never match.
//
// What it leaks: equal values give equal tokens, so anyone with the table
// sees which rows share a value and how often each value occurs (frequency
// analysis: for a column with few distinct values, such as a country, this
// reveals much), and can confirm a guess only with the key. Use it for
// high-entropy values (emails, phone numbers, national ids); normalise
// first (e.g. lower-case the email) so equal values compare equal. It
// supports equality only, not ranges or prefixes.
func (k *Keyring) BlindIndex(ctx context.Context, domain string, value []byte) ([]byte, error) {
	key, err := k.blindIndexKey(ctx, domain)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write(value)
	return m.Sum(nil), nil
}

func (k *Keyring) blindIndexKey(ctx context.Context, domain string) ([]byte, error) {
	if v, ok := k.index.derived.Load(domain); ok {
		return v.([]byte), nil
	}
	root, err := k.blindIndexRoot(ctx)
	if err != nil {
		return nil, err
	}
	dk, err := hkdf.Key(sha256.New, root, nil, "bulwark/keyring/blind-index/v1\x00"+domain, 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive blind-index key: %w", err)
	}
	k.index.derived.Store(domain, dk)
	return dk, nil
}

func (k *Keyring) blindIndexRoot(ctx context.Context) ([]byte, error) {
	k.index.mu.Lock()
	defer k.index.mu.Unlock()
	if k.index.root != nil {
		return k.index.root, nil
	}
	key, err := k.store.Key(ctx, 0)
	if errors.Is(err, ErrNotFound) {
		m, merr := k.newMaterial()
		if merr != nil {
			return nil, merr
		}
		w, werr := k.wrap(ctx, "", 0, m)
		clear(m)
		if werr != nil {
			return nil, werr
		}
		now := k.cfg.Now().UTC()
		err = k.store.AddKey(ctx, Key{ID: 0, State: Enabled, Wrapped: w, CreatedAt: now, UpdatedAt: now})
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return nil, fmt.Errorf("keyring: add blind-index key: %w", err)
		}
		key, err = k.store.Key(ctx, 0) // ours, or the one another process stored first
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: load blind-index key: %w", err)
	}
	root, _, err := k.unwrap(ctx, key)
	if err != nil {
		return nil, err
	}
	k.index.root = root
	return root, nil
}

package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/argon2"
)

// PassphraseParams are the argon2id cost parameters of [NewPassphraseKEK].
// The zero value means the defaults, RFC 9106 section 4's second
// recommended option for memory-constrained environments: 3 passes over
// 64 MiB with 4 lanes.
type PassphraseParams struct {
	Time      uint32 // passes; default 3 (RFC 9106 §4)
	MemoryKiB uint32 // memory in KiB; default 65536 = 64 MiB (RFC 9106 §4)
	Threads   uint8  // lanes; default 4 (RFC 9106 §4)
	// Rand is the source of salts and nonces; default crypto/rand.Reader.
	Rand io.Reader
}

// Caps on the parameters read back from a wrapped key, so that an altered
// record cannot make Unwrap spend unbounded time or memory (the same idea
// as age's maxWorkFactor).
const (
	maxPassphraseTime      = 16
	maxPassphraseMemoryKiB = 4 << 20 // 4 GiB
	maxPassphraseThreads   = 64
	passphraseSaltSize     = 16
	passphraseHeaderSize   = 1 + 4 + 4 + 1 + passphraseSaltSize
)

func (p PassphraseParams) withDefaults() PassphraseParams {
	if p.Time == 0 {
		p.Time = 3
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 64 << 10
	}
	if p.Threads == 0 {
		p.Threads = 4
	}
	if p.Rand == nil {
		p.Rand = rand.Reader
	}
	return p
}

// passphraseKEK is the KEK [NewPassphraseKEK] returns.
type passphraseKEK struct {
	pass   Secret
	params PassphraseParams
	header []byte // 0x02 | params | salt of this instance
	aead   cipher.AEAD

	mu    sync.Mutex
	cache map[string]cipher.AEAD // by header
}

// NewPassphraseKEK derives a KEK from passphrase (which it copies) with
// argon2id (RFC 9106) and params (zero means the defaults). It runs argon2id
// once, which takes about a hundred milliseconds with the defaults.
//
// It suits a small deployment where an operator types a passphrase at start
// rather than mounting a master key. Each wrapped key records the salt and
// cost parameters it was derived with:
//
//	0x02 | time (4) | memoryKiB (4) | threads (1) | salt (16) | nonce (12) | AES-256-GCM ciphertext
//
// so a later process, or one with other default parameters, derives the
// same key. NewPassphraseKEK derives once with a fresh random salt; Unwrap
// of a key wrapped under another salt derives again (once per salt, then
// cached), which is why the KEK keeps a copy of the passphrase in memory
// for its lifetime. A strong passphrase is the whole of its security: use
// at least 20 random characters, or a master key ([NewLocalKEK]) instead.
func NewPassphraseKEK(passphrase Secret, params PassphraseParams) (KEK, error) {
	if len(passphrase.Bytes()) == 0 {
		return nil, fmt.Errorf("keyring: empty passphrase: %w", errInvalidMasterKey)
	}
	params = params.withDefaults()
	h := make([]byte, passphraseHeaderSize)
	h[0] = wrapPassphraseV1
	binary.BigEndian.PutUint32(h[1:], params.Time)
	binary.BigEndian.PutUint32(h[5:], params.MemoryKiB)
	h[9] = params.Threads
	if _, err := io.ReadFull(params.Rand, h[10:]); err != nil {
		return nil, fmt.Errorf("keyring: random salt: %w", err)
	}
	k := &passphraseKEK{pass: NewSecret(passphrase.Bytes()), params: params, header: h, cache: map[string]cipher.AEAD{}}
	if err := checkPassphraseHeader(h); err != nil {
		return nil, err
	}
	aead, err := k.derive(h)
	if err != nil {
		return nil, err
	}
	k.aead = aead
	k.cache[string(h)] = aead
	return k, nil
}

func checkPassphraseHeader(h []byte) error {
	t := binary.BigEndian.Uint32(h[1:])
	m := binary.BigEndian.Uint32(h[5:])
	p := h[9]
	if t < 1 || t > maxPassphraseTime || m > maxPassphraseMemoryKiB || p < 1 || p > maxPassphraseThreads || m < 8*uint32(p) {
		return ErrWrongKEK
	}
	return nil
}

func (k *passphraseKEK) derive(h []byte) (cipher.AEAD, error) {
	t := binary.BigEndian.Uint32(h[1:])
	m := binary.BigEndian.Uint32(h[5:])
	key := argon2.IDKey(k.pass.Bytes(), h[10:passphraseHeaderSize], t, m, h[9], 32)
	defer clear(key)
	return newGCM(key)
}

// Wrap encrypts key under the passphrase-derived key, binding
// associatedData.
func (k *passphraseKEK) Wrap(_ context.Context, key, associatedData []byte) ([]byte, error) {
	return gcmWrap(k.aead, k.params.Rand, k.header, key, associatedData)
}

// Unwrap decrypts a key wrapped by a passphrase KEK with the same passphrase.
// A wrong passphrase, altered record or parameters beyond the caps return
// ErrWrongKEK.
func (k *passphraseKEK) Unwrap(_ context.Context, wrapped, associatedData []byte) ([]byte, error) {
	if len(wrapped) < passphraseHeaderSize || wrapped[0] != wrapPassphraseV1 {
		return nil, ErrWrongKEK
	}
	h := wrapped[:passphraseHeaderSize]
	if err := checkPassphraseHeader(h); err != nil {
		return nil, err
	}
	k.mu.Lock()
	aead, ok := k.cache[string(h)]
	if !ok {
		var err error
		if aead, err = k.derive(h); err != nil {
			k.mu.Unlock()
			return nil, err
		}
		if len(k.cache) >= 16 {
			clear(k.cache)
			k.cache[string(k.header)] = k.aead
		}
		k.cache[string(h)] = aead
	}
	k.mu.Unlock()
	return gcmUnwrap(aead, h, wrapped[passphraseHeaderSize:], associatedData)
}

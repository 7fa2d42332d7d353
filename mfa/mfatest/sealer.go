package mfatest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"

	"github.com/bulwarkhq/bulwark/mfa"
)

// gcmSealer is AES-256-GCM with a random key, the nonce prepended to the
// ciphertext and the associated data authenticated.
type gcmSealer struct{ aead cipher.AEAD }

// NewSealer returns an [mfa.Sealer] for tests: AES-256-GCM under a random
// key that lives only in memory. Managers that must read each other's
// secrets (several instances on one store) share one.
func NewSealer() mfa.Sealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &gcmSealer{aead: aead}
}

func (s *gcmSealer) Seal(_ context.Context, pt, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(pt)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, pt, ad), nil
}

func (s *gcmSealer) Open(_ context.Context, ct, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ct) < n {
		return nil, errors.New("mfatest: short ciphertext")
	}
	return s.aead.Open(nil, ct[:n], ct[n:], ad)
}

package keyring_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	ctx := context.Background()
	// In production: keyring.LocalKEKFromEnv("BULWARK_MASTER_KEY") and
	// sqlstore's st.Keyring().
	master, _ := keyring.ParseMasterKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	kek, _ := keyring.NewLocalKEK(master.Bytes())
	master.Zero()
	kr, _ := keyring.New(memstore.NewKeyringStore(), kek, keyring.Config{})

	ad := keyring.AD("users", "email", "42")
	ct, _ := kr.Seal(ctx, []byte("ada@example.com"), ad)
	pt, _ := kr.Open(ctx, ct, ad)
	fmt.Println(string(pt))

	// The same ciphertext copied into another row does not open.
	_, err := kr.Open(ctx, ct, keyring.AD("users", "email", "43"))
	fmt.Println(errors.Is(err, keyring.ErrAuthFailed))

	// After rotation, old ciphertexts still open.
	_, _ = kr.Admin().Rotate(ctx)
	pt, _ = kr.Open(ctx, ct, ad)
	fmt.Println(string(pt))
	// Output:
	// ada@example.com
	// true
	// ada@example.com
}

// fakeKMS stands in for a cloud KMS client (AWS KMS Encrypt/Decrypt with an
// EncryptionContext, Google Cloud KMS with additional authenticated data,
// Vault transit with a context). A real one calls the service here; the
// master key never leaves it.
type fakeKMS struct {
	keyName string
	aead    cipher.AEAD // held by the "service"
}

func (k *fakeKMS) Wrap(_ context.Context, key, ad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, key, ad), nil
}

func (k *fakeKMS) Unwrap(_ context.Context, wrapped, ad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, keyring.ErrWrongKEK
	}
	key, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], ad)
	if err != nil {
		return nil, keyring.ErrWrongKEK // the service's "invalid ciphertext"
	}
	return key, nil
}

// A KMS fits the two-method KEK interface; Rewrap moves every key from a
// local master key to it.
func ExampleKEK_kms() {
	ctx := context.Background()
	block, _ := aes.NewCipher(make([]byte, 32))
	aead, _ := cipher.NewGCM(block)
	kms := &fakeKMS{keyName: "projects/p/locations/l/keyRings/app/cryptoKeys/dek-kek", aead: aead}

	local, _ := keyring.NewLocalKEK(make([]byte, 32))
	store := memstore.NewKeyringStore()
	kr, _ := keyring.New(store, local, keyring.Config{})
	ct, _ := kr.Seal(ctx, []byte("secret"), nil)

	n, _ := kr.Admin().Rewrap(ctx, kms)
	fmt.Println("rewrapped", n)

	// A process configured with only the KMS reads the old data.
	kr2, _ := keyring.New(store, kms, keyring.Config{})
	pt, _ := kr2.Open(ctx, ct, nil)
	fmt.Println(string(pt))
	// Output:
	// rewrapped 1
	// secret
}

func ExampleAdmin_DestroySubjectKey() {
	ctx := context.Background()
	kek, _ := keyring.NewLocalKEK(make([]byte, 32))
	kr, _ := keyring.New(memstore.NewKeyringStore(), kek, keyring.Config{})

	ad := keyring.AD("profiles", "address", "u-7")
	ct, _ := kr.SealFor(ctx, "u-7", []byte("1 Main St"), ad)
	_ = kr.Admin().DestroySubjectKey(ctx, "u-7") // erasure: the data is gone everywhere
	_, err := kr.OpenFor(ctx, "u-7", ct, ad)
	fmt.Println(errors.Is(err, keyring.ErrUnknownKey))
	// Output: true
}

func ExampleSecret() {
	s := keyring.NewSecret([]byte("hunter2"))
	fmt.Printf("%v %s %x %q\n", s, s, s, s)
	// Output: [REDACTED] [REDACTED] [REDACTED] [REDACTED]
}

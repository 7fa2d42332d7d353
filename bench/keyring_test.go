package bench

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// The keyring against raw AES-256-GCM from the standard library, the floor
// it builds on: a 64-byte field (the per-call overhead: cache lookup, usage
// count, nonce, header) and 64 KiB (bulk throughput; target at least 0.8×
// raw GCM).

func newBenchKeyring(b *testing.B) *keyring.Keyring {
	b.Helper()
	kek, err := keyring.NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		b.Fatal(err)
	}
	kr, err := keyring.New(memstore.NewKeyringStore(), kek, keyring.Config{})
	if err != nil {
		b.Fatal(err)
	}
	// Warm the cache: the first Seal creates the key.
	if _, err := kr.Seal(context.Background(), nil, nil); err != nil {
		b.Fatal(err)
	}
	return kr
}

func newRawGCM(b *testing.B) cipher.AEAD {
	b.Helper()
	block, err := aes.NewCipher(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"64KiB", 64 << 10}}

func BenchmarkKeyringSeal(b *testing.B) {
	ctx := context.Background()
	ad := keyring.AD("users", "email", "42")
	for _, sz := range benchSizes {
		pt := make([]byte, sz.n)
		b.Run("keyring/"+sz.name, func(b *testing.B) {
			kr := newBenchKeyring(b)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Seal(ctx, pt, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("rawgcm/"+sz.name, func(b *testing.B) {
			aead := newRawGCM(b)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			for b.Loop() {
				// What a careful caller of raw GCM does: a fresh random
				// nonce and a new output buffer per message.
				out := make([]byte, 12, 12+sz.n+16)
				if _, err := rand.Read(out); err != nil {
					b.Fatal(err)
				}
				_ = aead.Seal(out, out[:12], pt, ad)
			}
		})
	}
}

func BenchmarkKeyringOpen(b *testing.B) {
	ctx := context.Background()
	ad := keyring.AD("users", "email", "42")
	for _, sz := range benchSizes {
		pt := make([]byte, sz.n)
		b.Run("keyring/"+sz.name, func(b *testing.B) {
			kr := newBenchKeyring(b)
			ct, err := kr.Seal(ctx, pt, ad)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kr.Open(ctx, ct, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("rawgcm/"+sz.name, func(b *testing.B) {
			aead := newRawGCM(b)
			nonce := make([]byte, 12)
			ct := aead.Seal(nil, nonce, pt, ad)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := aead.Open(nil, nonce, ct, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package bench

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"slices"
	"testing"
	"time"

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

// BenchmarkKeyringBulkRatio interleaves the keyring and raw GCM at 64 KiB,
// message by message, and reports the keyring's throughput as a fraction
// of raw GCM's ("ratio", target ≥ 0.8): the median over messages of raw
// time / keyring time. Interleaving exposes both to the same noise on a
// shared machine and the median ignores preemption spikes, so the ratio is
// far steadier than one computed from two separate benchmarks.
func BenchmarkKeyringBulkRatio(b *testing.B) {
	ctx := context.Background()
	ad := keyring.AD("files", "body", "42")
	pt := make([]byte, 64<<10)
	kr := newBenchKeyring(b)
	aead := newRawGCM(b)
	nonce := make([]byte, 12)
	b.Run("seal", func(b *testing.B) {
		var ratios []float64
		b.SetBytes(int64(2 * len(pt)))
		for b.Loop() {
			t0 := time.Now()
			if _, err := kr.Seal(ctx, pt, ad); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			out := make([]byte, 12, 12+len(pt)+16)
			if _, err := rand.Read(out); err != nil {
				b.Fatal(err)
			}
			_ = aead.Seal(out, out[:12], pt, ad)
			ratios = append(ratios, float64(time.Since(t1))/float64(t1.Sub(t0)))
		}
		b.ReportMetric(median(ratios), "ratio")
	})
	b.Run("open", func(b *testing.B) {
		ct, err := kr.Seal(ctx, pt, ad)
		if err != nil {
			b.Fatal(err)
		}
		raw := aead.Seal(nil, nonce, pt, ad)
		var ratios []float64
		b.SetBytes(int64(2 * len(pt)))
		for b.Loop() {
			t0 := time.Now()
			if _, err := kr.Open(ctx, ct, ad); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := aead.Open(nil, nonce, raw, ad); err != nil {
				b.Fatal(err)
			}
			ratios = append(ratios, float64(time.Since(t1))/float64(t1.Sub(t0)))
		}
		b.ReportMetric(median(ratios), "ratio")
	})
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

package bench_test

// Bulwark's password hashing against github.com/alexedwards/argon2id, the
// most used Go argon2id helper, at the same parameters in the same run.
// Both wrap golang.org/x/crypto/argon2, so the interesting numbers are the
// ratios (per-call overhead) and allocations, and whether each verifies the
// other's hashes (TestPeerInterop). Keep runs short on shared machines:
//
//	go test -run '^$' -bench Password -benchtime 10x -count 4

import (
	"context"
	"testing"

	"github.com/alexedwards/argon2id"

	"github.com/bulwarkhq/bulwark/password"
)

const benchPW = "correct horse battery staple"

// peerParams converts Bulwark's parameters to the peer's.
func peerParams(p password.Params) *argon2id.Params {
	return &argon2id.Params{Memory: p.Memory, Iterations: p.Time, Parallelism: p.Parallelism, SaltLength: p.SaltLen, KeyLength: p.KeyLen}
}

var passwordTiny = password.Params{Memory: 8, Time: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func bulwarkHasher(b testing.TB, p password.Params) *password.Hasher {
	h, err := password.New(password.Config{Params: p})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchBulwark(b *testing.B, p password.Params, verify bool) {
	h := bulwarkHasher(b, p)
	ctx := context.Background()
	enc, err := h.Hash(ctx, benchPW)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if verify {
			err = h.Verify(ctx, benchPW, enc)
		} else {
			_, err = h.Hash(ctx, benchPW)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchPeer(b *testing.B, p password.Params, verify bool) {
	pp := peerParams(p)
	enc, err := argon2id.CreateHash(benchPW, pp)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if verify {
			var ok bool
			ok, err = argon2id.ComparePasswordAndHash(benchPW, enc)
			if !ok && err == nil {
				b.Fatal("mismatch")
			}
		} else {
			_, err = argon2id.CreateHash(benchPW, pp)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPasswordHashDefault(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) { benchBulwark(b, password.DefaultParams(), false) })
	b.Run("alexedwards", func(b *testing.B) { benchPeer(b, password.DefaultParams(), false) })
}

func BenchmarkPasswordVerifyDefault(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) { benchBulwark(b, password.DefaultParams(), true) })
	b.Run("alexedwards", func(b *testing.B) { benchPeer(b, password.DefaultParams(), true) })
}

// At the smallest parameters the KDF is cheap, so the libraries' own
// per-call overhead shows.
func BenchmarkPasswordHashTiny(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) { benchBulwark(b, passwordTiny, false) })
	b.Run("alexedwards", func(b *testing.B) { benchPeer(b, passwordTiny, false) })
}

func BenchmarkPasswordVerifyTiny(b *testing.B) {
	b.Run("bulwark", func(b *testing.B) { benchBulwark(b, passwordTiny, true) })
	b.Run("alexedwards", func(b *testing.B) { benchPeer(b, passwordTiny, true) })
}

// TestPeerInterop: each library verifies the other's hashes (same PHC format).
func TestPeerInterop(t *testing.T) {
	p := password.Params{Memory: 64, Time: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	h := bulwarkHasher(t, p)
	ctx := context.Background()
	ours, err := h.Hash(ctx, benchPW)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := argon2id.ComparePasswordAndHash(benchPW, ours); err != nil || !ok {
		t.Fatalf("peer rejects our hash: %v %v", ok, err)
	}
	theirs, err := argon2id.CreateHash(benchPW, peerParams(p))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Verify(ctx, benchPW, theirs); err != nil {
		t.Fatalf("we reject the peer's hash: %v", err)
	}
}

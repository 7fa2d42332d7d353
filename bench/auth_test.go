package bench

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// newArgonHasher is password's Hasher at its defaults (RFC 9106 §4: 64 MiB,
// t=3, p=4) with its default concurrency cap, max(2, NumCPU/p) hashes at a
// time, so that 64 clients queue instead of allocating 64 × 64 MiB.
func newArgonHasher() *password.Hasher {
	h, err := password.New(password.Config{})
	if err != nil {
		panic(err)
	}
	return h
}

type benchUsers struct{ u auth.User }

func (b *benchUsers) FindUser(_ context.Context, by auth.Lookup, v string) (auth.User, error) {
	if (by == auth.ByLogin && v == b.u.Username) || (by == auth.ByID && v == b.u.ID) {
		return b.u, nil
	}
	return auth.User{}, auth.ErrNotFound
}
func (b *benchUsers) CreateUser(context.Context, auth.User) error           { return nil }
func (b *benchUsers) SetPasswordHash(context.Context, string, string) error { return nil }

type benchPolicy struct{}

func (benchPolicy) Check(context.Context, string, ...string) error { return nil }

type benchSessions struct{ n atomic.Int64 }

func (s *benchSessions) StartSession(context.Context, string, auth.SessionStart) (auth.IssuedSession, error) {
	n := s.n.Add(1)
	return auth.IssuedSession{ID: fmt.Sprint(n), Token: fmt.Sprint("t", n)}, nil
}
func (s *benchSessions) EndSession(context.Context, string, string) error         { return nil }
func (s *benchSessions) EndSessions(context.Context, string, string) (int, error) { return 0, nil }

// peakHeap samples the heap while f runs and returns the largest HeapInuse.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// clients is the number of concurrent logins the issue asks for.
const clients = 64

func parallel64(b *testing.B, f func()) {
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	peak := peakHeap(func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f()
			}
		})
	})
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkLoginArgon2Default64 is a full password login (counters, lookup,
// argon2id verify at default parameters, session) with 64 concurrent
// clients. Compare with BenchmarkVerifyArgon2Default64: the ratio of their
// ns/op shows the login is bounded by the hasher, and peak-heap-MiB that
// 64 clients cost what the hasher's concurrency cap allows, not 64 × 64 MiB.
func BenchmarkLoginArgon2Default64(b *testing.B) {
	h := newArgonHasher()
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	a, err := auth.New(auth.Deps{
		Store: memstore.NewAuthStore(), Users: &benchUsers{u: auth.User{ID: "u1", Username: "JanKowalski37", PasswordHash: hash}},
		Hasher: h, Policy: benchPolicy{}, Sessions: &benchSessions{},
	}, auth.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c := auth.Client{UserAgent: "bench", Binding: "b"} // no IP: the per-IP limit would stop the benchmark
	parallel64(b, func() {
		if _, err := a.Login(context.Background(), "JanKowalski37", "correct horse battery staple", c); err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkVerifyArgon2Default64 is the hasher alone, for the ratio.
func BenchmarkVerifyArgon2Default64(b *testing.B) {
	h := newArgonHasher()
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	parallel64(b, func() {
		if err := h.Verify(context.Background(), "correct horse battery staple", hash); err != nil {
			b.Error(err)
		}
	})
}

type freeHasher struct{}

func (freeHasher) Hash(_ context.Context, pw string) (string, error) { return pw, nil }
func (freeHasher) Verify(_ context.Context, pw, enc string) error {
	if subtle.ConstantTimeCompare([]byte(pw), []byte(enc)) != 1 {
		return errors.New("mismatch")
	}
	return nil
}
func (freeHasher) NeedsRehash(string) bool { return false }

// BenchmarkLoginOverhead is a login with a hasher that costs nothing, on
// the in-memory store: auth's own cost per login, to set against the
// hasher's (BenchmarkVerifyArgon2Default64).
func BenchmarkLoginOverhead(b *testing.B) {
	a, err := auth.New(auth.Deps{
		Store: memstore.NewAuthStore(), Users: &benchUsers{u: auth.User{ID: "u1", Username: "JanKowalski37", PasswordHash: "pw"}},
		Hasher: freeHasher{}, Policy: benchPolicy{}, Sessions: &benchSessions{},
	}, auth.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c := auth.Client{IP: "192.0.2.1", UserAgent: "bench", Binding: "b"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Login(ctx, "JanKowalski37", "pw", c); err != nil {
			b.Fatal(err)
		}
	}
}

package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/contend"
)

// base is the suites' clock origin, at microsecond precision (what SQL
// stores keep).
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// contention is how many goroutines the concurrent cases run at once.
const contention = 50

func ctx() context.Context { return context.Background() }

// keys are awkward but valid keys: separators, non-ASCII, the longest.
var keys = []string{"k", "mfa:attempts:totp:alice", "a/b c:d", "ключ", strings.Repeat("x", 512)}

// TestCounter checks a [CounterStore]. newStore must return a fresh, empty
// store for each call.
func TestCounter(t *testing.T, newStore func(t *testing.T) CounterStore) {
	const w = 10 * time.Minute
	add := func(t *testing.T, s CounterStore, key string, n int64, now time.Time) (int64, time.Time) {
		t.Helper()
		c, exp, err := s.AddCount(ctx(), key, n, w, now)
		if err != nil {
			t.Fatalf("AddCount(%.20q, %d): %v", key, n, err)
		}
		return c, exp
	}
	t.Run("ReadMissing", func(t *testing.T) {
		s := newStore(t)
		if c, exp := add(t, s, "k", 0, base); c != 0 || !exp.IsZero() {
			t.Fatalf("read of a missing counter = %d, %v; want 0, zero time", c, exp)
		}
		if c, _ := add(t, s, "k", 1, base); c != 1 {
			t.Fatalf("a read created the counter: first add = %d, want 1", c)
		}
	})
	t.Run("Window", func(t *testing.T) {
		s := newStore(t)
		end := base.Add(w)
		for i, step := range []struct {
			n    int64
			at   time.Time
			want int64
		}{{1, base, 1}, {1, base.Add(time.Second), 2}, {3, base.Add(time.Minute), 5}, {0, end.Add(-time.Microsecond), 5}} {
			if c, exp := add(t, s, "k", step.n, step.at); c != step.want || !exp.Equal(end) {
				t.Fatalf("step %d: AddCount(%d) = %d, %v; want %d, %v (a live counter keeps its expiry)", i, step.n, c, exp, step.want, end)
			}
		}
		// At its expiry the counter is gone: a read says so and creates
		// nothing, and the next add starts a new window.
		if c, exp := add(t, s, "k", 0, end); c != 0 || !exp.IsZero() {
			t.Fatalf("read at expiry = %d, %v; want 0, zero time", c, exp)
		}
		if c, exp := add(t, s, "k", 2, end); c != 2 || !exp.Equal(end.Add(w)) {
			t.Fatalf("add at expiry = %d, %v; want a new window: 2, %v", c, exp, end.Add(w))
		}
	})
	t.Run("Keys", func(t *testing.T) {
		s := newStore(t)
		for i, k := range keys {
			for range i + 1 {
				add(t, s, k, 1, base)
			}
		}
		for i, k := range keys {
			if c, _ := add(t, s, k, 0, base); c != int64(i+1) {
				t.Fatalf("counter %.20q = %d, want %d: keys are not independent", k, c, i+1)
			}
		}
	})
	t.Run("Reset", func(t *testing.T) {
		s := newStore(t)
		if err := s.ResetCount(ctx(), "k"); err != nil {
			t.Fatalf("ResetCount with nothing to reset: %v", err)
		}
		add(t, s, "k", 3, base)
		add(t, s, "other", 1, base)
		if err := s.ResetCount(ctx(), "k"); err != nil {
			t.Fatal(err)
		}
		if c, exp := add(t, s, "k", 0, base); c != 0 || !exp.IsZero() {
			t.Fatalf("read after reset = %d, %v; want 0, zero time", c, exp)
		}
		later := base.Add(time.Minute)
		if c, exp := add(t, s, "k", 1, later); c != 1 || !exp.Equal(later.Add(w)) {
			t.Fatalf("add after reset = %d, %v; want a new window: 1, %v", c, exp, later.Add(w))
		}
		if c, _ := add(t, s, "other", 0, base); c != 1 {
			t.Fatalf("reset of one key changed another: %d, want 1", c)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Every add sees a distinct count: no two callers can both believe
		// they made, say, the fifth attempt.
		s := newStore(t)
		var mu sync.Mutex
		seen := map[int64]bool{}
		contend.Run(t, contention, func() (bool, error) {
			c, _, err := s.AddCount(ctx(), "k", 1, w, base)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && seen[c] {
				return false, fmt.Errorf("count %d returned twice", c)
			}
			seen[c] = true
			return true, err
		})
		if c, _ := add(t, s, "k", 0, base); c != contention {
			t.Fatalf("after %d concurrent adds the count is %d", contention, c)
		}
		for i := int64(1); i <= contention; i++ {
			if !seen[i] {
				t.Fatalf("count %d never returned", i)
			}
		}
	})
}

// TestTokens checks a [TokenStore]. newStore must return a fresh, empty
// store for each call.
func TestTokens(t *testing.T, newStore func(t *testing.T) TokenStore) {
	h1, h2 := sha256.Sum256([]byte("secret one")), sha256.Sum256([]byte("secret two"))
	const ttl = 10 * time.Minute
	exp := base.Add(ttl)
	put := func(t *testing.T, s TokenStore, key string, h [32]byte, v []byte, exp time.Time) {
		t.Helper()
		if err := s.PutToken(ctx(), key, h, v, exp.Sub(base), base); err != nil {
			t.Fatalf("PutToken(%.20q): %v", key, err)
		}
	}
	take := func(t *testing.T, s TokenStore, key string, h [32]byte, now time.Time) ([]byte, bool) {
		t.Helper()
		v, ok, err := s.TakeToken(ctx(), key, h, now)
		if err != nil {
			t.Fatalf("TakeToken(%.20q): %v", key, err)
		}
		if !ok && v != nil {
			t.Fatalf("TakeToken(%.20q) returned a value without ok", key)
		}
		return v, ok
	}
	t.Run("TakeMissing", func(t *testing.T) {
		s := newStore(t)
		if _, ok := take(t, s, "k", h1, base); ok {
			t.Fatal("took a token that was never put")
		}
	})
	t.Run("SingleUse", func(t *testing.T) {
		s := newStore(t)
		val := []byte{0, 1, 2, 0xff, 'v', 0}
		put(t, s, "k", h1, val, exp)
		if _, ok := take(t, s, "k", h2, base); ok {
			t.Fatal("took a token with another hash")
		}
		if v, ok := take(t, s, "k", h1, base); !ok || !bytes.Equal(v, val) {
			t.Fatalf("TakeToken = %x, %v; want %x, true (a wrong hash must not consume it)", v, ok, val)
		}
		if _, ok := take(t, s, "k", h1, base); ok {
			t.Fatal("took the same token twice")
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "k", h1, []byte("v"), exp)
		if _, ok := take(t, s, "k", h1, exp); ok {
			t.Fatal("took a token at its expiry")
		}
		if _, ok := take(t, s, "k", h1, exp.Add(-time.Microsecond)); !ok {
			t.Fatal("could not take a token a microsecond before its expiry")
		}
	})
	t.Run("Replace", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "k", h1, []byte("old"), exp)
		put(t, s, "k", h2, []byte("new"), exp.Add(time.Hour))
		if _, ok := take(t, s, "k", h1, base); ok {
			t.Fatal("the replaced token still works")
		}
		if v, ok := take(t, s, "k", h2, exp); !ok || string(v) != "new" {
			t.Fatalf("TakeToken = %q, %v; want the new token with its new expiry", v, ok)
		}
	})
	t.Run("EmptyValue", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "k", h1, nil, exp)
		if v, ok := take(t, s, "k", h1, base); !ok || len(v) != 0 {
			t.Fatalf("TakeToken = %q, %v; want empty, true", v, ok)
		}
	})
	t.Run("Keys", func(t *testing.T) {
		s := newStore(t)
		for _, k := range keys {
			put(t, s, k, h1, []byte(k), exp)
		}
		for _, k := range keys {
			if v, ok := take(t, s, k, h1, base); !ok || string(v) != k {
				t.Fatalf("TakeToken(%.20q) = %.20q, %v: keys are not independent", k, v, ok)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "k", h1, []byte("v"), exp)
		if won := contend.Run(t, contention, func() (bool, error) {
			_, ok, err := s.TakeToken(ctx(), "k", h1, base)
			return ok, err
		}); won != 1 {
			t.Fatalf("%d of %d concurrent takes of one token succeeded, want exactly 1", won, contention)
		}
	})
}

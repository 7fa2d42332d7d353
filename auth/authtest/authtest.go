// Package authtest is the conformance suite for implementations of the
// store interfaces of package auth. Any implementation runs it from its own
// tests:
//
//	func TestConformance(t *testing.T) {
//		authtest.Run(t, func(t *testing.T) auth.Store { return newStore(t) })
//	}
//
// Every subtest gets a fresh store from the function passed in. A store that
// implements only part of [auth.Store] (to be combined with
// [auth.SplitStore]) runs [RunClaims] or [RunCounters] for that part, or
// [Run] on a SplitStore of it and memstore's for the rest. The suite uses
// the standard library only.
package authtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
)

// contenders is the number of goroutines racing in the concurrency tests.
const contenders = 24

// base is a fixed, microsecond-precise instant: stores may keep
// microseconds only.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// Run runs every part of the suite against stores from newStore.
func Run(t *testing.T, newStore func(t *testing.T) auth.Store) {
	t.Helper()
	t.Run("Claims", func(t *testing.T) {
		RunClaims(t, func(t *testing.T) auth.ClaimStore { return newStore(t) })
	})
	t.Run("Counters", func(t *testing.T) {
		RunCounters(t, func(t *testing.T) auth.CounterStore { return newStore(t) })
	})
	t.Run("ResetTokens", func(t *testing.T) {
		runResetTokens(t, func(t *testing.T) auth.ResetTokenStore { return newStore(t) })
	})
	t.Run("Pending", func(t *testing.T) {
		runPending(t, func(t *testing.T) auth.PendingStore { return newStore(t) })
	})
}

// race runs f in n goroutines started together and waits for them.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

// exactlyOne runs f in contenders goroutines at once and fails unless
// exactly one returns nil and all others return loser.
func exactlyOne(t *testing.T, what string, loser error, f func() error) {
	t.Helper()
	var won atomic.Int32
	var failed atomic.Value
	race(contenders, func(int) {
		err := f()
		switch {
		case err == nil:
			won.Add(1)
		case !errors.Is(err, loser):
			failed.Store(err)
		}
	})
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("concurrent %s: %v", what, err)
	}
	if won.Load() != 1 {
		t.Fatalf("%d of %d concurrent %s calls won, want exactly 1", won.Load(), contenders, what)
	}
}

func isNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("%s: got error %v, want auth.ErrNotFound", what, err)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// RunClaims checks a [auth.ClaimStore].
func RunClaims(t *testing.T, newStore func(t *testing.T) auth.ClaimStore) {
	ctx := context.Background()
	t.Run("ClaimOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := auth.Claim{Kind: "username", Key: "jankowalski37", Owner: "u1", CreatedAt: base}
		noErr(t, s.Claim(ctx, c), "first claim")
		if err := s.Claim(ctx, c); !errors.Is(err, auth.ErrTaken) {
			t.Fatalf("same claim again: got %v, want auth.ErrTaken", err)
		}
		c.Owner = "u2"
		if err := s.Claim(ctx, c); !errors.Is(err, auth.ErrTaken) {
			t.Fatalf("claim by another owner: got %v, want auth.ErrTaken", err)
		}
		noErr(t, s.Claim(ctx, auth.Claim{Kind: "device", Key: "jankowalski37", Owner: "u2", CreatedAt: base}), "same key, other kind")
	})
	t.Run("Release", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := auth.Claim{Kind: "username", Key: "annanowak12", Owner: "u1", CreatedAt: base}
		noErr(t, s.Claim(ctx, c), "claim")
		isNotFound(t, s.Release(ctx, "username", "annanowak12", "u2"), "release by another owner")
		isNotFound(t, s.Release(ctx, "username", "missing", "u1"), "release missing")
		noErr(t, s.Release(ctx, "username", "annanowak12", "u1"), "release")
		c.Owner = "u2"
		noErr(t, s.Claim(ctx, c), "claim after release")
	})
	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		i := atomic.Int32{}
		exactlyOne(t, "claim", auth.ErrTaken, func() error {
			return s.Claim(ctx, auth.Claim{Kind: "username", Key: "race", Owner: fmt.Sprint("u", i.Add(1)), CreatedAt: base})
		})
	})
}

// RunCounters checks a [auth.CounterStore].
func RunCounters(t *testing.T, newStore func(t *testing.T) auth.CounterStore) {
	ctx := context.Background()
	params := func(now time.Time) auth.FailureParams {
		return auth.FailureParams{Now: now, ResetAfter: time.Hour, Keep: 24 * time.Hour, PersistAt: 10}
	}
	t.Run("MissingIsZero", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c, err := s.Counter(ctx, "acct:nobody", base)
		noErr(t, err, "counter")
		if c != (auth.Counter{}) {
			t.Fatalf("missing counter = %+v, want zero", c)
		}
		noErr(t, s.ResetCounter(ctx, "acct:nobody"), "reset missing")
	})
	t.Run("AddFailure", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := 1; i <= 3; i++ {
			now := base.Add(time.Duration(i) * time.Minute)
			c, err := s.AddFailure(ctx, "acct:jan", params(now))
			noErr(t, err, "add failure")
			want := auth.Counter{Failures: i, Consecutive: i, LastFailure: now}
			if !equalCounter(c, want) {
				t.Fatalf("after %d failures: %+v, want %+v", i, c, want)
			}
			got, err := s.Counter(ctx, "acct:jan", now)
			noErr(t, err, "counter")
			if !equalCounter(got, want) {
				t.Fatalf("Counter after %d failures: %+v, want %+v", i, got, want)
			}
		}
		other, err := s.Counter(ctx, "acct:anna", base.Add(time.Hour))
		noErr(t, err, "other key")
		if other != (auth.Counter{}) {
			t.Fatalf("other key = %+v, want zero", other)
		}
	})
	t.Run("ResetWindowKeepsConsecutive", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.AddFailure(ctx, "k", params(base))
		noErr(t, err, "add")
		_, err = s.AddFailure(ctx, "k", params(base.Add(time.Minute)))
		noErr(t, err, "add")
		later := base.Add(time.Minute + time.Hour + time.Second)
		c, err := s.AddFailure(ctx, "k", params(later))
		noErr(t, err, "add after quiet period")
		if c.Failures != 1 || c.Consecutive != 3 {
			t.Fatalf("after quiet period: %+v, want Failures 1, Consecutive 3", c)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.AddFailure(ctx, "k", params(base))
		noErr(t, err, "add")
		c, err := s.Counter(ctx, "k", base.Add(24*time.Hour))
		noErr(t, err, "counter")
		if c != (auth.Counter{}) {
			t.Fatalf("counter after Keep = %+v, want zero", c)
		}
		c, err = s.AddFailure(ctx, "k", params(base.Add(25*time.Hour)))
		noErr(t, err, "add after expiry")
		if c.Failures != 1 || c.Consecutive != 1 {
			t.Fatalf("add after expiry: %+v, want 1/1", c)
		}
	})
	t.Run("PersistAt", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 10 {
			_, err := s.AddFailure(ctx, "k", params(base.Add(time.Duration(i)*time.Second)))
			noErr(t, err, "add")
		}
		c, err := s.Counter(ctx, "k", base.Add(1000*time.Hour))
		noErr(t, err, "counter")
		if c.Consecutive != 10 {
			t.Fatalf("persisted counter = %+v, want Consecutive 10", c)
		}
		noErr(t, s.ResetCounter(ctx, "k"), "reset")
		c, err = s.Counter(ctx, "k", base)
		noErr(t, err, "counter")
		if c != (auth.Counter{}) {
			t.Fatalf("after reset = %+v, want zero", c)
		}
	})
	t.Run("ConcurrentFailures", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seen := make([]int, contenders)
		var failed atomic.Value
		race(contenders, func(i int) {
			c, err := s.AddFailure(ctx, "k", auth.FailureParams{Now: base, ResetAfter: time.Hour, Keep: time.Hour})
			if err != nil {
				failed.Store(err)
				return
			}
			seen[i] = c.Consecutive
		})
		if err, _ := failed.Load().(error); err != nil {
			t.Fatalf("concurrent AddFailure: %v", err)
		}
		got := map[int]bool{}
		for _, n := range seen {
			if n < 1 || n > contenders || got[n] {
				t.Fatalf("concurrent AddFailure results %v are not a permutation of 1..%d", seen, contenders)
			}
			got[n] = true
		}
	})
	t.Run("UndoAndTouch", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		op := func(o auth.FailureOp, now time.Time) auth.Counter {
			p := params(now)
			p.Op = o
			c, err := s.AddFailure(ctx, "k", p)
			noErr(t, err, "add failure op")
			return c
		}
		if c := op(auth.FailureUndo, base); c != (auth.Counter{}) {
			t.Fatalf("undo on a missing counter = %+v, want zero", c)
		}
		if c := op(auth.FailureTouch, base); c != (auth.Counter{}) {
			t.Fatalf("touch on a missing counter = %+v, want zero", c)
		}
		op(auth.FailureAdd, base)
		op(auth.FailureAdd, base.Add(time.Second))
		last := base.Add(2 * time.Second)
		op(auth.FailureAdd, last)
		want := auth.Counter{Failures: 3, Consecutive: 3, LastFailure: last}
		if c := op(auth.FailureTouch, base.Add(time.Minute)); !equalCounter(c, want) {
			t.Fatalf("touch = %+v, want %+v unchanged", c, want)
		}
		want = auth.Counter{Failures: 2, Consecutive: 2, LastFailure: last}
		if c := op(auth.FailureUndo, base.Add(time.Minute)); !equalCounter(c, want) {
			t.Fatalf("undo = %+v, want %+v (LastFailure kept)", c, want)
		}
		got, err := s.Counter(ctx, "k", base.Add(time.Minute))
		noErr(t, err, "counter")
		if !equalCounter(got, want) {
			t.Fatalf("Counter after undo = %+v, want %+v", got, want)
		}
		op(auth.FailureUndo, base.Add(time.Minute))
		op(auth.FailureUndo, base.Add(time.Minute))
		if c := op(auth.FailureUndo, base.Add(time.Minute)); c.Failures != 0 || c.Consecutive != 0 {
			t.Fatalf("undo below zero = %+v", c)
		}
		// Concurrent adds and undos sum exactly.
		race(contenders, func(i int) {
			o := auth.FailureAdd
			if i%4 == 3 {
				o = auth.FailureUndo
			}
			p := params(base.Add(2 * time.Minute))
			p.Op = o
			if _, err := s.AddFailure(ctx, "k2", p); err != nil {
				t.Errorf("concurrent op: %v", err)
			}
		})
		got, err = s.Counter(ctx, "k2", base.Add(2*time.Minute))
		noErr(t, err, "counter")
		if lo, hi := contenders-2*(contenders/4), contenders-contenders/4; got.Consecutive < lo || got.Consecutive > hi {
			t.Fatalf("after concurrent adds and undos: %+v, want between %d and %d", got, lo, hi)
		}
	})
	t.Run("Hits", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		w := time.Minute
		n, err := s.AddHits(ctx, "ip:1", base, w, 0)
		noErr(t, err, "read empty")
		if n != 0 {
			t.Fatalf("empty window = %d", n)
		}
		for i := 1; i <= 3; i++ {
			n, err = s.AddHits(ctx, "ip:1", base.Add(time.Duration(i)*time.Second), w, 1)
			noErr(t, err, "hit")
			if n != i {
				t.Fatalf("hit %d gave %d", i, n)
			}
		}
		n, err = s.AddHits(ctx, "ip:1", base.Add(30*time.Second), w, 0)
		noErr(t, err, "read")
		if n != 3 {
			t.Fatalf("read = %d, want 3", n)
		}
		n, err = s.AddHits(ctx, "ip:1", base.Add(w+time.Second), w, 0) // the window began at the first hit
		noErr(t, err, "read after window")
		if n != 0 {
			t.Fatalf("read after window = %d, want 0", n)
		}
		n, err = s.AddHits(ctx, "ip:1", base.Add(w+2*time.Second), w, 2)
		noErr(t, err, "hit in new window")
		if n != 2 {
			t.Fatalf("new window = %d, want 2", n)
		}
		c, err := s.Counter(ctx, "ip:1", base)
		noErr(t, err, "counter")
		if c != (auth.Counter{}) {
			t.Fatalf("hits leaked into counters: %+v", c)
		}
	})
	t.Run("ConcurrentHits", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var failed atomic.Value
		race(contenders, func(int) {
			if _, err := s.AddHits(ctx, "ip:2", base, time.Hour, 1); err != nil {
				failed.Store(err)
			}
		})
		if err, _ := failed.Load().(error); err != nil {
			t.Fatalf("concurrent AddHits: %v", err)
		}
		n, err := s.AddHits(ctx, "ip:2", base, time.Hour, 0)
		noErr(t, err, "read")
		if n != contenders {
			t.Fatalf("hits = %d, want %d", n, contenders)
		}
	})
}

func equalCounter(a, b auth.Counter) bool {
	return a.Failures == b.Failures && a.Consecutive == b.Consecutive && a.LastFailure.Equal(b.LastFailure)
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// runResetTokens checks a [auth.ResetTokenStore].
func runResetTokens(t *testing.T, newStore func(t *testing.T) auth.ResetTokenStore) {
	ctx := context.Background()
	tok := func(name, user string) auth.ResetToken {
		return auth.ResetToken{Hash: hashOf(name), UserID: user, CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute)}
	}
	t.Run("LookupAndConsumeOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := tok("a", "u1")
		noErr(t, s.CreateResetToken(ctx, want), "create")
		got, err := s.LookupResetToken(ctx, hashOf("a"), base.Add(time.Minute))
		noErr(t, err, "lookup")
		checkToken(t, got, want)
		_, err = s.LookupResetToken(ctx, hashOf("a"), base.Add(2*time.Minute))
		noErr(t, err, "lookup does not consume")
		got, err = s.ConsumeResetToken(ctx, hashOf("a"), base.Add(time.Minute))
		noErr(t, err, "consume")
		checkToken(t, got, want)
		_, err = s.ConsumeResetToken(ctx, hashOf("a"), base.Add(time.Minute))
		isNotFound(t, err, "second consume")
		_, err = s.LookupResetToken(ctx, hashOf("a"), base.Add(time.Minute))
		isNotFound(t, err, "lookup after consume")
		_, err = s.LookupResetToken(ctx, hashOf("missing"), base)
		isNotFound(t, err, "lookup missing")
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateResetToken(ctx, tok("a", "u1")), "create")
		_, err := s.LookupResetToken(ctx, hashOf("a"), base.Add(30*time.Minute))
		isNotFound(t, err, "lookup at expiry")
		_, err = s.ConsumeResetToken(ctx, hashOf("a"), base.Add(30*time.Minute))
		isNotFound(t, err, "consume at expiry")
	})
	t.Run("DeleteForUser", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateResetToken(ctx, tok("a", "u1")), "create")
		noErr(t, s.CreateResetToken(ctx, tok("b", "u1")), "create")
		noErr(t, s.CreateResetToken(ctx, tok("c", "u2")), "create")
		noErr(t, s.DeleteResetTokens(ctx, "u1"), "delete")
		noErr(t, s.DeleteResetTokens(ctx, "nobody"), "delete none")
		for _, name := range []string{"a", "b"} {
			_, err := s.ConsumeResetToken(ctx, hashOf(name), base)
			isNotFound(t, err, "consume deleted "+name)
		}
		_, err := s.ConsumeResetToken(ctx, hashOf("c"), base)
		noErr(t, err, "other user's token survives")
	})
	t.Run("ConcurrentConsume", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateResetToken(ctx, tok("a", "u1")), "create")
		exactlyOne(t, "consume", auth.ErrNotFound, func() error {
			_, err := s.ConsumeResetToken(ctx, hashOf("a"), base)
			return err
		})
	})
}

func checkToken(t *testing.T, got, want auth.ResetToken) {
	t.Helper()
	if !bytes.Equal(got.Hash, want.Hash) || got.UserID != want.UserID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("token = %+v, want %+v", got, want)
	}
}

// runPending checks a [auth.PendingStore].
func runPending(t *testing.T, newStore func(t *testing.T) auth.PendingStore) {
	ctx := context.Background()
	pend := func(name string) auth.Pending {
		return auth.Pending{Hash: hashOf(name), UserID: "u1", BindingHash: hashOf("cookie"), Enroll: true,
			CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute)}
	}
	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := pend("p")
		noErr(t, s.CreatePending(ctx, want), "create")
		for i := 1; i <= 3; i++ {
			got, err := s.AttemptPending(ctx, hashOf("p"), base.Add(time.Minute), 3)
			noErr(t, err, "attempt")
			if got.Attempts != i || got.UserID != "u1" || !got.Enroll ||
				!bytes.Equal(got.BindingHash, want.BindingHash) || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.CreatedAt.Equal(base) {
				t.Fatalf("attempt %d = %+v", i, got)
			}
		}
		_, err := s.AttemptPending(ctx, hashOf("p"), base.Add(time.Minute), 3)
		isNotFound(t, err, "attempt beyond max")
		_, err = s.AttemptPending(ctx, hashOf("missing"), base, 3)
		isNotFound(t, err, "attempt missing")
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreatePending(ctx, pend("p")), "create")
		_, err := s.AttemptPending(ctx, hashOf("p"), base.Add(5*time.Minute), 5)
		isNotFound(t, err, "attempt at expiry")
	})
	t.Run("ConcurrentAttempts", func(t *testing.T) {
		// The second-factor guess budget holds under contention: of many
		// concurrent attempts exactly maxAttempts get through, each with a
		// distinct count.
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreatePending(ctx, pend("p")), "create")
		const maxAttempts = 5
		var mu sync.Mutex
		seen := map[int]bool{}
		var failed atomic.Value
		race(contenders, func(int) {
			got, err := s.AttemptPending(ctx, hashOf("p"), base.Add(time.Minute), maxAttempts)
			switch {
			case err == nil:
				mu.Lock()
				seen[got.Attempts] = true
				mu.Unlock()
			case !errors.Is(err, auth.ErrNotFound):
				failed.Store(err)
			}
		})
		if err, _ := failed.Load().(error); err != nil {
			t.Fatalf("concurrent AttemptPending: %v", err)
		}
		if len(seen) != maxAttempts {
			t.Fatalf("concurrent attempts got counts %v, want 1..%d once each", seen, maxAttempts)
		}
		for i := 1; i <= maxAttempts; i++ {
			if !seen[i] {
				t.Fatalf("concurrent attempts got counts %v, want 1..%d once each", seen, maxAttempts)
			}
		}
	})
	t.Run("DeleteOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreatePending(ctx, pend("p")), "create")
		exactlyOne(t, "delete", auth.ErrNotFound, func() error { return s.DeletePending(ctx, hashOf("p")) })
		_, err := s.AttemptPending(ctx, hashOf("p"), base, 5)
		isNotFound(t, err, "attempt after delete")
	})
}

// ConcurrentUsernames registers n namesakes ("Jan Kowalski") at once with
// [auth.GenerateUsername], spread over stores (for example two pools on one
// database, standing for two app instances), and fails unless every
// generated username is distinct.
func ConcurrentUsernames(t *testing.T, stores []auth.ClaimStore, n int) {
	t.Helper()
	ctx := context.Background()
	names := make([]string, n)
	errs := make([]error, n)
	race(n, func(i int) {
		names[i], errs[i] = auth.GenerateUsername(ctx, stores[i%len(stores)], "Jan", "Kowalski", fmt.Sprint("u", i), base, nil)
	})
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("registration %d: %v", i, errs[i])
		}
		if seen[names[i]] {
			t.Fatalf("username %s generated twice", names[i])
		}
		seen[names[i]] = true
	}
}

// SharedCounters checks that counter stores handed out for several app
// instances (for example two pools on one database, or two clients on one
// Redis) share their counts under contention: 24 failures and hits
// spread over the stores all count, and every store reads the same totals.
func SharedCounters(t *testing.T, stores []auth.CounterStore) {
	t.Helper()
	ctx := context.Background()
	p := auth.FailureParams{Now: base, ResetAfter: time.Hour, Keep: time.Hour}
	var failed atomic.Value
	race(contenders, func(i int) {
		s := stores[i%len(stores)]
		if _, err := s.AddFailure(ctx, "acct:shared", p); err != nil {
			failed.Store(err)
		}
		if _, err := s.AddHits(ctx, "ip:shared", base, time.Hour, 1); err != nil {
			failed.Store(err)
		}
	})
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("shared counters: %v", err)
	}
	for i, s := range stores {
		c, err := s.Counter(ctx, "acct:shared", base)
		noErr(t, err, "counter")
		if c.Consecutive != contenders || c.Failures != contenders {
			t.Fatalf("store %d reads %+v, want %d failures", i, c, contenders)
		}
		n, err := s.AddHits(ctx, "ip:shared", base, time.Hour, 0)
		noErr(t, err, "hits")
		if n != contenders {
			t.Fatalf("store %d reads %d hits, want %d", i, n, contenders)
		}
	}
}

// SeedExpiring fills s with one record of each kind that expires within two
// hours of now (a counter, a rate window, a reset token, a pending state)
// and one permanent-lock counter under key "perm" that never expires, for
// tests of an implementation's purge method. It returns how many records
// a purge at now+2h should remove.
func SeedExpiring(t *testing.T, s auth.Store, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	_, err := s.AddFailure(ctx, "k", auth.FailureParams{Now: now, ResetAfter: time.Hour, Keep: time.Hour})
	noErr(t, err, "add failure")
	_, err = s.AddFailure(ctx, "perm", auth.FailureParams{Now: now, ResetAfter: time.Hour, Keep: time.Hour, PersistAt: 1})
	noErr(t, err, "add failure")
	_, err = s.AddHits(ctx, "ip", now, time.Minute, 1)
	noErr(t, err, "add hits")
	noErr(t, s.CreateResetToken(ctx, auth.ResetToken{Hash: hashOf("t"), UserID: "u", ExpiresAt: now.Add(time.Minute)}), "token")
	noErr(t, s.CreatePending(ctx, auth.Pending{Hash: hashOf("p"), UserID: "u", BindingHash: hashOf("b"), ExpiresAt: now.Add(time.Minute)}), "pending")
	return 4
}

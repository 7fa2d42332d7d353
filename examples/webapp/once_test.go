package main

import (
	"testing"
	"time"
)

// FuzzOnceToken: form tokens come from the client. use never panics; a
// token the guard did not issue is never remembered, so it can neither be
// refused nor fill the guard; an issued one is refused the second time only.
func FuzzOnceToken(f *testing.F) {
	for _, s := range []string{"", ".", "x.y", "a.b.c", "AAAA.", ".AAAA", "nonce.AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	g := newOnceGuard(time.Now)
	f.Add(g.issue())
	f.Fuzz(func(t *testing.T, token string) {
		if g.use(token) {
			t.Fatalf("a token used for the first time was refused: %q", token)
		}
		again := g.use(token)
		g.mu.Lock()
		_, kept := g.set[token]
		n := len(g.set)
		g.mu.Unlock()
		if again != kept {
			t.Fatalf("refused again = %v but remembered = %v for %q", again, kept, token)
		}
		if n > onceCapacity {
			t.Fatalf("the guard holds %d tokens", n)
		}
		fresh := g.issue()
		if g.use(fresh) || !g.use(fresh) {
			t.Fatal("an issued token is not refused exactly the second time")
		}
	})
}

// TestOnceGuardBounded: remembered tokens expire after onceTTL.
func TestOnceGuardBounded(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now()}
	g := newOnceGuard(c.Now)
	tok := g.issue()
	g.use(tok)
	c.Add(onceTTL + time.Second)
	g.use(g.issue()) // the next use sweeps what expired
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, kept := g.set[tok]; kept || len(g.set) != 1 {
		t.Fatalf("expired token kept: %v, %d remembered", kept, len(g.set))
	}
}

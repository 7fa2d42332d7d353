package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

// barrierHasher holds every Verify until n of them are in flight (or a
// second has passed), so that a burst of concurrent logins all pass the
// lock check before any of them is judged: the worst case of an attacker
// firing many requests at once.
type barrierHasher struct {
	fakeHasher
	b *barrier
}

func newBarrierHasher(n int) *barrierHasher { return &barrierHasher{b: newBarrier(n)} }

func (h *barrierHasher) Verify(ctx context.Context, pw, encoded string) error {
	h.b.wait()
	return h.fakeHasher.Verify(ctx, pw, encoded)
}

// burst runs n concurrent logins with wrong passwords (and, if right is
// set, one more with the right password) and returns how many attempts were
// judged: failures audited as "bad_password" plus successful logins.
func burst(t *testing.T, e *env, n int, right string) int {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n + 1 {
		pw := fmt.Sprint("guess", i)
		if i == n {
			if right == "" {
				continue
			}
			pw = right
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.a.Login(ctx, "JanKowalski37", pw, ipClient(i))
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
				return
			}
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		}()
	}
	wg.Wait()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	judged := ok
	for _, ev := range e.rec.events {
		if ev.Type == auth.EventLoginFailed && ev.Reason == "bad_password" {
			judged++
		}
	}
	return judged
}

// TestBurstJudgesOneBlockPerWait: a burst of concurrent guesses, all past
// the lock check before any is counted, gets no more than FailureFactor of
// them judged; the rest are refused unjudged, as during a wait.
func TestBurstJudgesOneBlockPerWait(t *testing.T) {
	t.Parallel()
	const n = 20
	h := newBarrierHasher(n)
	e := newEnv(t, func(c *setup) { c.Hasher = h; c.IPLimit = 1 << 30 })
	e.addUser("u1", "JanKowalski37", "right")
	require.LessOrEqual(t, burst(t, e, n, ""), auth.DefaultFailureFactor)
}

// TestBurstRespectsHardLimit: at 99 consecutive failures, a burst of
// concurrent guesses (one of them right) gets at most one more failure
// judged before the account is permanently locked, so never more than 100
// consecutive failures are judged (NIST SP 800-63B §5.2.2): either a wrong
// guess is judged first and locks the account for good (the right one is
// then refused), or the right one is judged first and clears the count,
// after which the guesses still waiting are judged afresh.
func TestBurstRespectsHardLimit(t *testing.T) {
	t.Parallel()
	const n = 20
	h := newBarrierHasher(n + 1)
	e := newEnv(t, func(c *setup) { c.Hasher = h; c.IPLimit = 1 << 30 })
	e.addUser("u1", "JanKowalski37", "right")
	ctx := context.Background()
	// 99 failures, each after a quiet period, so no wait is in force now.
	start := e.clock.Now().Add(-100 * 13 * time.Hour)
	for i := range auth.MaxConsecutiveFailures - 1 {
		_, err := e.store.AddFailure(ctx, "acct:u1", auth.FailureParams{
			Now: start.Add(time.Duration(i) * 13 * time.Hour), ResetAfter: auth.DefaultFailureReset,
			Keep: 90 * 24 * time.Hour, PersistAt: auth.MaxConsecutiveFailures,
		})
		require.NoError(t, err)
	}
	c, err := e.store.Counter(ctx, "acct:u1", e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, auth.MaxConsecutiveFailures-1, c.Consecutive)
	require.False(t, e.cfg.Lockout.State(c, e.clock.Now()).Locked)

	judged := burst(t, e, n, "right")
	c, err = e.store.Counter(ctx, "acct:u1", e.clock.Now())
	require.NoError(t, err)
	if e.rec.countEvents(auth.EventLogin) == 0 {
		require.LessOrEqual(t, judged, 1, "locked for good after the 100th failure")
		require.Equal(t, auth.MaxConsecutiveFailures, c.Consecutive)
	} else {
		// Counted failures are judged failures (TestRefusedGuessesNotCounted),
		// all after the success cleared the count.
		require.LessOrEqual(t, c.Consecutive, auth.DefaultFailureFactor)
	}
}

// barrier opens when n callers have arrived, or after a second (never
// deadlock the suite).
type barrier struct {
	mu      sync.Mutex
	n       int
	arrived int
	all     chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, all: make(chan struct{})} }

func (b *barrier) wait() {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(time.Second): // attempts that wait for others never arrive
	}
}

// readBarrierStore holds every counter read at a barrier, so that a burst
// of attempts all read the counter before any of them updates it.
type readBarrierStore struct {
	auth.Store
	b *barrier
}

func (s readBarrierStore) Counter(ctx context.Context, key string, now time.Time) (auth.Counter, error) {
	c, err := s.Store.Counter(ctx, key, now)
	s.b.wait()
	return c, err
}

// judgedFailures counts the failures audited as judged ("bad_password").
func (e *env) judgedFailures() int {
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	n := 0
	for _, ev := range e.rec.events {
		if (ev.Type == auth.EventLoginFailed || ev.Type == auth.EventPasswordFailed) && ev.Reason == "bad_password" {
			n++
		}
	}
	return n
}

// TestRefusedGuessesNotCounted: a burst of concurrent wrong guesses on two
// instances, all past the lock check at once, leaves a failure count equal
// to the number of guesses judged: the ones refused unjudged (past the
// allowance) are not counted, as the lockout docs say, on every store.
// Before, every guess of the burst was counted, so a concurrent attacker
// reached the permanent lock several times faster than documented.
func TestRefusedGuessesNotCounted(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const n = 20
			ctx := context.Background()
			h := newBarrierHasher(n)
			e := newEnv(t, func(c *setup) { c.Hasher = h; c.IPLimit = 1 << 30 })
			e.addUser("u1", "JanKowalski37", "right")
			st := b.stores(t)
			// Every guess reads the counter before any is counted.
			rb := newBarrier(n)
			as := []*auth.Authenticator{mustNew(readBarrierStore{st[0], rb}, e.cfg), mustNew(readBarrierStore{st[1], rb}, e.cfg)}
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, err := as[i%2].Login(ctx, "JanKowalski37", fmt.Sprint("guess", i), ipClient(i))
					require.ErrorIs(t, err, auth.ErrInvalidCredentials)
				})
			}
			wg.Wait()
			judged := e.judgedFailures()
			c, err := st[0].Counter(ctx, "acct:u1", e.clock.Now())
			require.NoError(t, err)
			require.Equal(t, judged, c.Consecutive, "counted failures = judged failures")
			require.LessOrEqual(t, judged, auth.DefaultFailureFactor)
			require.GreaterOrEqual(t, judged, 1)
		})
	}
}

// TestRightPasswordBurstSucceeds: a client that fires a few logins with
// the right password at once (a retry, several tabs) gets every one of
// them, on every store, even when all of them read the counter before any
// is counted: the attempts past the allowance wait for the ones in flight
// instead of being refused, and go on when a right password clears the
// count. Before, each was counted before it was verified, so the sixth and
// later were refused as if the account were locked.
func TestRightPasswordBurstSucceeds(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const n = 8
			ctx := context.Background()
			e := newEnv(t, func(c *setup) { c.Hasher = newBarrierHasher(n); c.IPLimit = 1 << 30 })
			e.addUser("u1", "JanKowalski37", "right")
			a := mustNew(readBarrierStore{b.stores(t)[0], newBarrier(n)}, e.cfg)
			errs := make(chan error, n)
			for i := range n {
				go func() {
					_, err := a.Login(ctx, "JanKowalski37", "right", ipClient(i))
					errs <- err
				}()
			}
			for range n {
				require.NoError(t, <-errs)
			}
			require.Equal(t, n, e.sess.count("u1"))
		})
	}
}

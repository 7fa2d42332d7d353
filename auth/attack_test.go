package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

func ipClient(i int) auth.Client {
	return auth.Client{IP: fmt.Sprintf("203.0.%d.%d", i/250, i%250+1), UserAgent: "bot", Binding: fmt.Sprint("b", i)}
}

// TestLockoutNeverRevealsPassword: during a lock the right password gets
// the same answer as a wrong one, and once the wait is over it works.
func TestLockoutNeverRevealsPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "right")
	for range auth.DefaultFailureFactor {
		_, err := e.a.Login(ctx, "JanKowalski37", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	require.Equal(t, 1, e.rec.countEvents(auth.EventLockout))
	require.Len(t, e.rec.notesOf(auth.NotifyLockout), 1)

	_, errRight := e.a.Login(ctx, "JanKowalski37", "right", client)
	_, errWrong := e.a.Login(ctx, "JanKowalski37", "wrong", client)
	require.Equal(t, errWrong, errRight)
	require.ErrorIs(t, errRight, auth.ErrInvalidCredentials)
	require.Zero(t, e.sess.count("u1"))

	e.clock.Add(auth.DefaultWaitIncrement)
	e.login(t, "JanKowalski37", "right", client)
}

// TestHardLimit: 100 consecutive failures, however spread out, lock the
// account until a password reset (NIST SP 800-63B §5.2.2).
func TestHardLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "right")
	for i := range auth.MaxConsecutiveFailures {
		_, err := e.a.Login(ctx, "JanKowalski37", "wrong", ipClient(i))
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		e.clock.Add(auth.DefaultMaxWait + time.Second) // always wait out the lock
	}
	e.clock.Add(30 * 24 * time.Hour)
	_, err := e.a.Login(ctx, "JanKowalski37", "right", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	// Every lock is audited; the owner is told of the first and of the
	// permanent one only.
	require.Equal(t, auth.MaxConsecutiveFailures-auth.DefaultFailureFactor+1, e.rec.countEvents(auth.EventLockout))
	require.Len(t, e.rec.notesOf(auth.NotifyLockout), 2)

	// A password reset lifts it.
	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	require.NoError(t, e.a.ResetPassword(ctx, e.rec.lastLink(t).Token, "a new long password", client))
	e.login(t, "JanKowalski37", "a new long password", client)
}

func TestPermanentLockoutAndUnlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.Lockout = auth.LockoutPolicy{PermanentLockout: true, FailureFactor: 3} })
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "right")
	for range 3 {
		_, err := e.a.Login(ctx, "JanKowalski37", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	e.clock.Add(24 * time.Hour)
	_, err := e.a.Login(ctx, "JanKowalski37", "right", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	require.NoError(t, e.a.Unlock(ctx, "admin1", "u1", client))
	e.login(t, "JanKowalski37", "right", client)
	require.Equal(t, 1, e.rec.countEvents(auth.EventUnlock))
}

// TestDistributedAttackOnOneAccount: many IPs, each under its own limit,
// share the account's counter, so the account locks after FailureFactor
// failures in total and the attack gets one block of guesses per wait.
func TestDistributedAttackOnOneAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "hunter2-but-long")
	var wg sync.WaitGroup
	var mu sync.Mutex
	judged := 0
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.a.Login(ctx, "JanKowalski37", fmt.Sprint("guess", i), ipClient(i))
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Errorf("attempt %d: %v", i, err)
			}
			mu.Lock()
			judged++
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, 200, judged)
	c, err := e.store.Counter(ctx, "acct:u1", e.clock.Now())
	require.NoError(t, err)
	// Attempts that saw the lock were not counted; those in flight when it
	// began were counted but refused unjudged, so only one block of
	// guesses was judged.
	require.GreaterOrEqual(t, c.Failures, auth.DefaultFailureFactor)
	require.Less(t, c.Failures, 200)
	e.rec.mu.Lock()
	judgedFailures := 0
	for _, ev := range e.rec.events {
		if ev.Type == auth.EventLoginFailed && ev.Reason == "bad_password" {
			judgedFailures++
		}
	}
	e.rec.mu.Unlock()
	require.Equal(t, auth.DefaultFailureFactor, judgedFailures)
	// The owner's right password, from a fresh IP, is refused until the wait ends.
	_, err = e.a.Login(ctx, "JanKowalski37", "hunter2-but-long", ipClient(999))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	e.clock.Add(auth.DefaultMaxWait)
	e.login(t, "JanKowalski37", "hunter2-but-long", ipClient(999))
}

// TestCredentialStuffing: a few IPs try leaked pairs across many accounts.
// Per-account lockout never triggers (one try per account), so the per-IP
// limit is what stops it: each IP gets IPLimit judged failures per window.
func TestCredentialStuffing(t *testing.T) {
	t.Parallel()
	const ips, accounts, limit = 8, 400, 20
	e := newEnv(t, func(c *setup) { c.IPLimit = limit })
	ctx := context.Background()
	for i := range accounts {
		e.addUser(fmt.Sprint("u", i), fmt.Sprint("User", i), fmt.Sprint("secret", i))
	}
	limited, invalid := 0, 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for ip := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for acc := ip; acc < accounts; acc += ips {
				_, err := e.a.Login(ctx, fmt.Sprint("User", acc), "leaked-password", ipClient(ip))
				mu.Lock()
				switch {
				case errors.Is(err, auth.ErrRateLimited):
					limited++
				case errors.Is(err, auth.ErrInvalidCredentials):
					invalid++
				default:
					t.Errorf("unexpected %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, accounts, limited+invalid)
	require.LessOrEqual(t, invalid, ips*limit)
	require.Equal(t, ips*limit, invalid)
	require.Positive(t, e.rec.countEvents(auth.EventRateLimited))
	// A rate-limited IP gets ErrRateLimited whatever the account, even for
	// the right password: the answer depends on the IP only.
	_, err := e.a.Login(ctx, "User0", "secret0", ipClient(0))
	require.ErrorIs(t, err, auth.ErrRateLimited)
	// The window passes.
	e.clock.Add(auth.DefaultIPWindow)
	e.login(t, "User0", "secret0", ipClient(0))
}

// TestCountersSharedByInstances: failures spread over two Authenticators on
// one store lock the account for both.
func TestCountersSharedByInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "right")
	second := e.again()
	for i := range auth.DefaultFailureFactor {
		a := e.a
		if i%2 == 1 {
			a = second
		}
		_, err := a.Login(ctx, "JanKowalski37", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	for _, a := range []*auth.Authenticator{e.a, second} {
		_, err := a.Login(ctx, "JanKowalski37", "right", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
}

// TestEnumerationByTiming measures Login for an unknown user, a wrong
// password and a locked account, 200 samples each, interleaved, with a
// hasher that costs a fixed 1 ms and store calls that cost 0.3 ms. The
// medians must agree to within half a store call measured in the same run
// (see sameTiming): a path that skipped the hash (authboss's early return)
// would differ by the whole hash cost, one that skipped a store call by a
// whole call. No duration is asserted, so machine load does not matter;
// TestSameStoreWorkPerPath proves the same work by counting.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestEnumerationByTiming(t *testing.T) {
	const samples, cost = 200, time.Millisecond
	e := newEnv(t, func(c *setup) {
		c.Hasher = fakeHasher{cost: cost}
		c.IPLimit = 1 << 30
	})
	ctx := context.Background()
	e.addUser("u1", "Known", "right")
	e.addUser("u2", "Locked", "right")
	// Store and users-table calls cost a round trip, so a path with fewer
	// of them would show too.
	e.a = mustNew(slowStore{e.store}, withCreds(e.cfg, slowCreds{e.creds}))
	for range auth.DefaultFailureFactor {
		_, err := e.a.Login(ctx, "Locked", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	try := func(login string) func(int) {
		return func(int) {
			_, err := e.a.Login(ctx, login, "wrong", client)
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			require.Equal(t, auth.ErrInvalidCredentials.Error(), err.Error(), "same message")
			if login == "Known" {
				// Keep "Known" from locking; this direct call on the
				// in-memory store costs microseconds.
				require.NoError(t, e.store.ResetCounter(ctx, "acct:u1"))
			}
		}
	}
	sameTiming(t, samples, map[string]func(int){
		"unknown": try("Nobody"), "wrong": try("Known"), "locked": try("Locked"),
	})
}

// TestUnknownLoginLocksToo: made-up logins lock like real ones and the lock
// is audited the same way (no user id), so the failure that starts a lock
// does not reveal whether the account exists. Only real owners are mailed.
func TestUnknownLoginLocksToo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	for range auth.DefaultFailureFactor {
		_, err := e.a.Login(ctx, "NoSuchUser99", "guess", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	require.Equal(t, 1, e.rec.countEvents(auth.EventLockout))
	require.Empty(t, e.rec.notesOf(auth.NotifyLockout))
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	for _, ev := range e.rec.events {
		require.Empty(t, ev.UserID)
	}
}

// TestIPv6LimitedPerPrefix: rotating through addresses of one IPv6 /64
// does not escape the per-IP limit.
func TestIPv6LimitedPerPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.IPLimit = 3 })
	ctx := context.Background()
	for i := range 3 {
		c := auth.Client{IP: fmt.Sprintf("2001:db8:1:2::%x", i+1), Binding: "b"}
		_, err := e.a.Login(ctx, fmt.Sprint("User", i), "guess", c)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	_, err := e.a.Login(ctx, "User9", "guess", auth.Client{IP: "2001:db8:1:2:ffff::1", Binding: "b"})
	require.ErrorIs(t, err, auth.ErrRateLimited)
	// Another /64, and IPv4, are separate.
	_, err = e.a.Login(ctx, "User9", "guess", auth.Client{IP: "2001:db8:1:3::1", Binding: "b"})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	_, err = e.a.Login(ctx, "User9", "guess", auth.Client{IP: "::ffff:192.0.2.1", Binding: "b"})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}

// TestHardLimitSurvivesLongGaps: the 100 consecutive failures of NIST SP
// 800-63B count from the last success whatever the gaps, so an attacker
// cannot pace 99 guesses per quiet season forever.
func TestHardLimitSurvivesLongGaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "right")
	for i := range auth.MaxConsecutiveFailures {
		if i == auth.MaxConsecutiveFailures/2 {
			e.clock.Add(180 * 24 * time.Hour) // a long pause mid-attack
		}
		_, err := e.a.Login(ctx, "JanKowalski37", fmt.Sprint("guess", i), ipClient(i))
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		e.clock.Add(auth.DefaultMaxWait + time.Second)
	}
	_, err := e.a.Login(ctx, "JanKowalski37", "right", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "locked after 100 consecutive failures")
}

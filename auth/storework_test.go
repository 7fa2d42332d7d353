package auth_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

// ops counts calls by name ("AddFailure/touch", "Claim", "FindUser", ...).
type ops struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *ops) add(name string) {
	o.mu.Lock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[name]++
	o.mu.Unlock()
}

// take returns the counts so far and starts again.
func (o *ops) take() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.n
	o.n = nil
	return out
}

// countingStore counts every store call, by method (and FailureOp).
type countingStore struct {
	auth.Store
	ops *ops
}

func (s countingStore) Claim(ctx context.Context, c auth.Claim) error {
	s.ops.add("Claim")
	return s.Store.Claim(ctx, c)
}

func (s countingStore) Release(ctx context.Context, kind, key, owner string) error {
	s.ops.add("Release")
	return s.Store.Release(ctx, kind, key, owner)
}

func (s countingStore) Counter(ctx context.Context, key string, now time.Time) (auth.Counter, error) {
	s.ops.add("Counter")
	return s.Store.Counter(ctx, key, now)
}

// AddFailure is one write whatever its FailureOp (FailureTouch is the
// write a locked attempt makes in place of FailureAdd).
func (s countingStore) AddFailure(ctx context.Context, key string, p auth.FailureParams) (auth.Counter, error) {
	s.ops.add("AddFailure")
	return s.Store.AddFailure(ctx, key, p)
}

func (s countingStore) ResetCounter(ctx context.Context, key string) error {
	s.ops.add("ResetCounter")
	return s.Store.ResetCounter(ctx, key)
}

func (s countingStore) AddHits(ctx context.Context, key string, now time.Time, w time.Duration, n int) (int, error) {
	s.ops.add(fmt.Sprintf("AddHits(%d)", min(n, 1)))
	return s.Store.AddHits(ctx, key, now, w, n)
}

func (s countingStore) CreateResetToken(ctx context.Context, t auth.ResetToken) error {
	s.ops.add("CreateResetToken")
	return s.Store.CreateResetToken(ctx, t)
}

type countingCreds struct {
	*fakeCreds
	ops *ops
}

func (c countingCreds) FindUser(ctx context.Context, by auth.Lookup, v string) (auth.User, error) {
	c.ops.add(fmt.Sprintf("FindUser(%d)", by))
	return c.fakeCreds.FindUser(ctx, by, v)
}

func (c countingCreds) CreateUser(ctx context.Context, u auth.User) error {
	c.ops.add("CreateUser")
	return c.fakeCreds.CreateUser(ctx, u)
}

// TestSameStoreWorkPerPath: every path of a flow that must not reveal the
// stored state makes the same store and users-table calls, counted (not
// timed): a locked attempt costs the write a counted one does, and a
// sign-up with a taken address the claims, lookups and releases of a new
// one. The counts are exact, so the test does not depend on the machine.
func TestSameStoreWorkPerPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type path struct {
		name string
		run  func(a *auth.Authenticator, i int) error
	}
	login := func(name string) func(*auth.Authenticator, int) error {
		return func(a *auth.Authenticator, i int) error {
			_, err := a.Login(ctx, name, "wrong", ipClient(i))
			return err
		}
	}
	reg := func(email string) func(*auth.Authenticator, int) error {
		return func(a *auth.Authenticator, i int) error {
			addr := email
			if addr == "" {
				addr = fmt.Sprintf("new%d@example.com", i)
			}
			// A distinct name each (usernames keep letters only), so
			// that no username number collides and costs another claim.
			last := "Kowal" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
			return a.Register(ctx, auth.Registration{FirstName: "Jan", LastName: last,
				Email: addr, Password: "a long passphrase"}, ipClient(i))
		}
	}
	reset := func(email string) func(*auth.Authenticator, int) error {
		return func(a *auth.Authenticator, i int) error {
			addr := email
			if addr == "" {
				addr = fmt.Sprintf("nobody%d@example.com", i)
			}
			return a.RequestPasswordReset(ctx, addr, ipClient(i))
		}
	}
	for _, tc := range []struct {
		flow  string
		paths []path
		err   error
	}{
		{"login", []path{{"unknown", login("Nobody")}, {"wrong", login("Known")}, {"locked", login("Locked")}}, auth.ErrInvalidCredentials},
		{"register", []path{{"new", reg("")}, {"taken", reg("Known@example.com")}}, nil},
		{"reset", []path{{"known", reset("Known@example.com")}, {"unknown", reset("")}}, nil},
	} {
		t.Run(tc.flow, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *setup) { c.IPLimit, c.ResetLimit = 1<<30, 1<<30 })
			e.addUser("u1", "Known", "right")
			e.addUser("u2", "Locked", "right")
			for range auth.DefaultFailureFactor {
				_, err := e.a.Login(ctx, "Locked", "wrong", client)
				require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			}
			o := &ops{}
			a := mustNew(countingStore{e.store, o}, withCreds(e.cfg, countingCreds{e.creds, o}))
			var want map[string]int
			for i, p := range tc.paths {
				for k := range 3 { // a few times each: the counts must not drift
					err := p.run(a, 100*i+k)
					if tc.err != nil {
						require.ErrorIs(t, err, tc.err, p.name)
					} else {
						require.NoError(t, err, p.name)
					}
					got := o.take()
					if want == nil {
						want = got
						continue
					}
					require.True(t, maps.Equal(want, got), "%s %s: %v, want %v (as %s)", tc.flow, p.name, got, want, tc.paths[0].name)
					if p.name == "wrong" {
						require.NoError(t, e.store.ResetCounter(ctx, "acct:u1"))
					}
				}
			}
		})
	}
}

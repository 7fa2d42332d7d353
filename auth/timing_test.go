package auth_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

// opCost is the simulated latency of one store or users-table call, so that
// a flow doing fewer calls for unknown accounts would show in its timing.
const opCost = 300 * time.Microsecond

// slowStore adds opCost to every store call, like a database round trip.
type slowStore struct{ auth.Store }

func (s slowStore) Claim(ctx context.Context, c auth.Claim) error {
	time.Sleep(opCost)
	return s.Store.Claim(ctx, c)
}

func (s slowStore) Release(ctx context.Context, kind, key, owner string) error {
	time.Sleep(opCost)
	return s.Store.Release(ctx, kind, key, owner)
}

func (s slowStore) Counter(ctx context.Context, key string, now time.Time) (auth.Counter, error) {
	time.Sleep(opCost)
	return s.Store.Counter(ctx, key, now)
}

func (s slowStore) AddFailure(ctx context.Context, key string, p auth.FailureParams) (auth.Counter, error) {
	time.Sleep(opCost)
	return s.Store.AddFailure(ctx, key, p)
}

func (s slowStore) ResetCounter(ctx context.Context, key string) error {
	time.Sleep(opCost)
	return s.Store.ResetCounter(ctx, key)
}

func (s slowStore) AddHits(ctx context.Context, key string, now time.Time, w time.Duration, n int) (int, error) {
	time.Sleep(opCost)
	return s.Store.AddHits(ctx, key, now, w, n)
}

func (s slowStore) CreateResetToken(ctx context.Context, t auth.ResetToken) error {
	time.Sleep(opCost)
	return s.Store.CreateResetToken(ctx, t)
}

// slowCreds adds opCost to every users-table call.
type slowCreds struct{ *fakeCreds }

func (c slowCreds) FindUser(ctx context.Context, by auth.Lookup, v string) (auth.User, error) {
	time.Sleep(opCost)
	return c.fakeCreds.FindUser(ctx, by, v)
}

func (c slowCreds) CreateUser(ctx context.Context, u auth.User) error {
	time.Sleep(opCost)
	return c.fakeCreds.CreateUser(ctx, u)
}

// sameTiming runs each case samples times, interleaved, and requires the
// medians to agree within tolerance. The machine is shared and noisy, so
// the tolerance is a fraction of the work a skipped step would save, not a
// benchmark: the test shows the paths do the same work.
func sameTiming(t *testing.T, samples int, tolerance time.Duration, cases map[string]func(i int)) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	times := make([][]time.Duration, len(names))
	for i := range samples {
		for j, n := range names {
			start := time.Now()
			cases[n](i)
			times[j] = append(times[j], time.Since(start))
		}
	}
	medians := make([]time.Duration, len(names))
	for j := range names {
		slices.Sort(times[j])
		medians[j] = times[j][samples/2]
	}
	t.Logf("medians %v: %v", names, medians)
	require.Less(t, slices.Max(medians)-slices.Min(medians), tolerance, "medians %v: %v", names, medians)
}

// TestResetEnumerationByTiming: a reset request for a known and an unknown
// address take the same time (200 samples each), and answer the same.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestResetEnumerationByTiming(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.ResetLimit = 1 << 30 })
	e.addUser("u1", "JanKowalski37", "pw")
	a := auth.New(slowStore{e.store}, withCreds(e.cfg, slowCreds{e.creds}))
	ctx := context.Background()
	sameTiming(t, 200, opCost/2, map[string]func(int){
		"known": func(i int) {
			require.NoError(t, a.RequestPasswordReset(ctx, "JanKowalski37@example.com", ipClient(i)))
		},
		"unknown": func(i int) {
			require.NoError(t, a.RequestPasswordReset(ctx, fmt.Sprintf("nobody%d@example.com", i), ipClient(i+1000)))
		},
	})
}

// TestRegisterEnumerationByTiming: signing up with a new and with a taken
// address take the same time (200 samples each), and answer the same.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestRegisterEnumerationByTiming(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.addUser("u1", "AnnaNowak10", "pw")
	a := auth.New(slowStore{e.store}, withCreds(e.cfg, slowCreds{e.creds}))
	ctx := context.Background()
	// Distinct names, so that username numbers rarely collide and the
	// samples measure the flow rather than the search for a free number.
	reg := func(i int, email string) auth.Registration {
		last := "Kowal" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		return auth.Registration{FirstName: "Jan", LastName: last, Email: email, Password: "a long passphrase"}
	}
	sameTiming(t, 200, opCost/2, map[string]func(int){
		"new":   func(i int) { require.NoError(t, a.Register(ctx, reg(i, fmt.Sprintf("jan%d@example.com", i)), client)) },
		"taken": func(i int) { require.NoError(t, a.Register(ctx, reg(i+5000, owner.Email), client)) },
	})
}

func withCreds(c auth.Config, creds auth.CredentialStore) auth.Config {
	c.Credentials = creds
	return c
}

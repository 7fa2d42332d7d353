package auth_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/password"
)

// Cheap parameters that keep the property under test: every verification
// does the same CPU work. The legacy costs differ from the current one by
// milliseconds, which an unwrapped account shows plainly.
var (
	onionCurrent = password.Params{Memory: 1024, Time: 1, Parallelism: 1}
	onionOld     = password.Params{Memory: 256, Time: 1, Parallelism: 1}
)

const onionBcryptCost = 6

func (f *fakeCreds) all() iter.Seq2[auth.User, error] {
	f.mu.Lock()
	users := slices.Collect(func(yield func(auth.User) bool) {
		for _, u := range f.users {
			if !yield(u) {
				return
			}
		}
	})
	f.mu.Unlock()
	return func(yield func(auth.User, error) bool) {
		for _, u := range users {
			if !yield(u, nil) {
				return
			}
		}
	}
}

func (f *fakeCreds) swap(_ context.Context, id, old, nh string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok || u.PasswordHash != old {
		return auth.ErrNotFound
	}
	u.PasswordHash = nh
	f.users[id] = u
	return nil
}

// legacyEnv has four accounts with password pw: "Current" (argon2id at the
// current parameters), "Bcrypt" and "Old" (bcrypt, argon2id with weaker
// parameters), and "Plain" (bcrypt, never wrapped), on a real hasher.
func legacyEnv(t *testing.T, pads []string) (*env, *password.Hasher) {
	t.Helper()
	ctx := context.Background()
	h, err := password.New(password.Config{Params: onionCurrent, LegacyPad: pads})
	require.NoError(t, err)
	old, err := password.New(password.Config{Params: onionOld})
	require.NoError(t, err)
	e := newEnv(t, func(c *setup) { c.Hasher = h; c.IPLimit = 1 << 30 })
	for id, mk := range map[string]func() string{
		"Current": func() string { s, err := h.Hash(ctx, "pw"); require.NoError(t, err); return s },
		"Bcrypt": func() string {
			b, err := bcrypt.GenerateFromPassword([]byte("pw"), onionBcryptCost)
			require.NoError(t, err)
			return string(b)
		},
		"Old":   func() string { s, err := old.Hash(ctx, "pw"); require.NoError(t, err); return s },
		"Plain": func() string { b, _ := bcrypt.GenerateFromPassword([]byte("pw"), onionBcryptCost); return string(b) },
	} {
		e.creds.users[id] = auth.User{ID: id, Username: id, Email: id + "@example.com", PasswordHash: mk()}
	}
	return e, h
}

// TestUpgradeHashes wraps the legacy hashes offline: each still logs in
// with its password, the first login replaces the onion with a plain
// current hash, a hash changed meanwhile is left alone, and a second run
// changes nothing.
func TestUpgradeHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, h := legacyEnv(t, nil)
	before := e.creds.get("Plain").PasswordHash
	// The "Plain" account's hash changes (a login's rehash) between the
	// read and the write: the swap must not undo it.
	raced := func(ctx context.Context, id, old, nh string) error {
		if id == "Plain" {
			require.NoError(t, e.creds.SetPasswordHash(ctx, "Plain", "v1$changed"))
		}
		return e.creds.swap(ctx, id, old, nh)
	}
	st, err := auth.UpgradeHashes(ctx, e.creds.all(), h.Wrap, raced)
	require.NoError(t, err)
	require.Equal(t, auth.UpgradeStats{Seen: 4, Wrapped: 2, Unchanged: 1, Raced: 1}, st)
	require.Equal(t, "v1$changed", e.creds.get("Plain").PasswordHash)
	require.NoError(t, e.creds.SetPasswordHash(ctx, "Plain", before))
	for _, id := range []string{"Bcrypt", "Old"} {
		w := e.creds.get(id).PasswordHash
		require.Contains(t, w, "$argon2id-onion$", id)
		e.login(t, id, "pw", client)
		require.NotContains(t, e.creds.get(id).PasswordHash, "onion", "rehashed at login")
		require.NoError(t, h.Verify(ctx, "pw", e.creds.get(id).PasswordHash))
	}
	st, err = auth.UpgradeHashes(ctx, e.creds.all(), h.Wrap, e.creds.swap)
	require.NoError(t, err)
	require.Equal(t, 1, st.Wrapped, "only the restored Plain")
}

// TestLegacyHashesIndistinguishableByTiming: after the offline upgrade,
// with the legacy settings as padding, a login to an unknown account, to
// one with a current hash, and to ones with wrapped bcrypt and wrapped
// weaker argon2id hashes cannot be told apart by timing (Mann-Whitney,
// 200 samples each, interleaved, p > 0.01 for every pair, see
// onionTiming). The test also shows its power: the same accounts before
// the upgrade (today's state without onions) are told apart, p < 0.01.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestLegacyHashesIndistinguishableByTiming(t *testing.T) {
	ctx := context.Background()
	pads := []string{fmt.Sprintf("bcrypt$v=2a,c=%d", onionBcryptCost), "argon2id$m=256,t=1,p=1,l=32"}
	try := func(e *env, login string) func(int) {
		return func(int) {
			_, err := e.a.Login(ctx, login, "wrong", client)
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			require.NoError(t, e.store.ResetCounter(ctx, "acct:"+login))
		}
	}
	// Before (today without onions or padding): an unwrapped bcrypt
	// account answers at another speed than an unknown one.
	e0, _ := legacyEnv(t, nil)
	p := onionTiming(t, 200, 1, map[string]func(int){"unknown": try(e0, "Nobody"), "bcrypt": try(e0, "Plain")})
	require.Less(t, p, 0.01, "the test tells unwrapped legacy accounts apart")

	e, h := legacyEnv(t, pads)
	st, err := auth.UpgradeHashes(ctx, e.creds.all(), h.Wrap, e.creds.swap)
	require.NoError(t, err)
	require.Equal(t, 3, st.Wrapped)
	for id, setting := range map[string]string{"Bcrypt": pads[0], "Plain": pads[0], "Old": pads[1]} {
		require.Equal(t, setting, password.InnerSetting(e.creds.get(id).PasswordHash), id)
	}
	p = onionTiming(t, 200, 3, map[string]func(int){
		"unknown": try(e, "Nobody"), "current": try(e, "Current"), "bcrypt": try(e, "Bcrypt"), "old": try(e, "Old"),
	})
	require.Greater(t, p, 0.01, "indistinguishable after the upgrade")
}

// onionTiming runs the cases interleaved, samples each per round, and
// returns the smallest Mann-Whitney p-value over all pairs of the last
// round; it stops early once a round has every p > 0.01, and runs up to
// rounds rounds otherwise (a pair fails a round by chance with
// probability 0.01, so several rounds keep a busy machine from failing the
// test while a real difference fails every one).
func onionTiming(t *testing.T, samples, rounds int, cases map[string]func(int)) float64 {
	t.Helper()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	minP := 0.0
	for round := range rounds {
		times := make([][]float64, len(names))
		for i := range samples {
			for j, n := range names {
				start := time.Now()
				cases[n](round*samples + i)
				times[j] = append(times[j], float64(time.Since(start)))
			}
		}
		minP = 1
		for a := range names {
			for b := a + 1; b < len(names); b++ {
				p := mannWhitneyP(times[a], times[b])
				t.Logf("round %d: %s (median %v) vs %s (median %v): p = %.3g", round+1, names[a],
					time.Duration(median(times[a])), names[b], time.Duration(median(times[b])), p)
				minP = min(minP, p)
			}
		}
		if minP > 0.01 {
			break
		}
	}
	return minP
}

package auth_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// sameTiming runs each case samples times, interleaved with a reference
// case that costs exactly one simulated store call, and requires the
// medians of the cases to agree to within half the median of that
// reference, measured in the same run: a path that skipped a store call or
// the hash differs by at least a whole call, whatever the machine's load,
// and no absolute duration is asserted. (A rank test is no use here: with
// sleeps that jitter little it flags the microseconds of CPU that two
// paths differ by, which no store round trip hides from nobody.) A
// failing round is repeated, up to three rounds in all, so one burst of
// load on a shared machine does not fail the test; a real difference fails
// every round.
func sameTiming(t *testing.T, samples int, cases map[string]func(i int)) {
	t.Helper()
	const rounds = 3
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	var msg string
	for round := range rounds {
		times := make([][]float64, len(names))
		var ref []float64
		for i := range samples {
			i += round * samples
			for j, n := range names {
				start := time.Now()
				cases[n](i)
				times[j] = append(times[j], float64(time.Since(start)))
			}
			start := time.Now()
			time.Sleep(opCost)
			ref = append(ref, float64(time.Since(start)))
		}
		medians := make([]float64, len(names))
		for j := range names {
			medians[j] = median(times[j])
		}
		spread, tol := slices.Max(medians)-slices.Min(medians), median(ref)/2
		msg = fmt.Sprintf("medians %v: %v, spread %v, half a store call %v", names,
			durations(medians), time.Duration(spread), time.Duration(tol))
		t.Logf("round %d: %s", round+1, msg)
		if spread < tol {
			return
		}
	}
	t.Fatalf("paths differ by timing in %d rounds: %s", rounds, msg)
}

func durations(xs []float64) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = time.Duration(x)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// mannWhitneyP is the two-sided p-value of the Mann-Whitney U test of x
// against y, by the normal approximation with the tie correction (sound
// for samples of 20 or more).
func mannWhitneyP(x, y []float64) float64 {
	type obs struct {
		v    float64
		from int
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, 0})
	}
	for _, v := range y {
		all = append(all, obs{v, 1})
	}
	slices.SortFunc(all, func(a, b obs) int { return cmp.Compare(a.v, b.v) })
	n1, n2 := float64(len(x)), float64(len(y))
	n := n1 + n2
	var r1, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].from == 0 {
				r1 += rank
			}
		}
		tc := float64(j - i)
		ties += tc*tc*tc - tc
		i = j
	}
	u := r1 - n1*(n1+1)/2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (u - n1*n2/2) / sd
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// TestResetEnumerationByTiming: a reset request for a known and an unknown
// address take the same time (200 samples each, see sameTiming), and
// answer the same.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestResetEnumerationByTiming(t *testing.T) {
	e := newEnv(t, func(c *setup) { c.ResetLimit = 1 << 30 })
	e.addUser("u1", "JanKowalski37", "pw")
	a := mustNew(slowStore{e.store}, withCreds(e.cfg, slowCreds{e.creds}))
	ctx := context.Background()
	sameTiming(t, 200, map[string]func(int){
		"known": func(i int) {
			require.NoError(t, a.RequestPasswordReset(ctx, "JanKowalski37@example.com", ipClient(i)))
		},
		"unknown": func(i int) {
			require.NoError(t, a.RequestPasswordReset(ctx, fmt.Sprintf("nobody%d@example.com", i), ipClient(i+1000)))
		},
	})
}

// TestRegisterEnumerationByTiming: signing up with a new and with a taken
// address take the same time (200 samples each, see sameTiming), and
// answer the same.
// Not parallel: timing tests run alone, before the parallel tests start.
func TestRegisterEnumerationByTiming(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.addUser("u1", "AnnaNowak10", "pw")
	a := mustNew(slowStore{e.store}, withCreds(e.cfg, slowCreds{e.creds}))
	ctx := context.Background()
	// Distinct names, so that username numbers rarely collide and the
	// samples measure the flow rather than the search for a free number.
	reg := func(i int, email string) auth.Registration {
		last := "Kowal" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		return auth.Registration{FirstName: "Jan", LastName: last, Email: email, Password: "a long passphrase"}
	}
	sameTiming(t, 200, map[string]func(int){
		"new":   func(i int) { require.NoError(t, a.Register(ctx, reg(i, fmt.Sprintf("jan%d@example.com", i)), client)) },
		"taken": func(i int) { require.NoError(t, a.Register(ctx, reg(i+5000, owner.Email), client)) },
	})
}

func withCreds(c setup, creds auth.CredentialStore) setup {
	c.Users = creds
	return c
}

// TestMannWhitney checks the test statistic itself: samples from one
// distribution are indistinguishable, a shift of a fraction of the spread
// is not.
func TestMannWhitney(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	draw := func(shift float64) []float64 {
		out := make([]float64, 200)
		for i := range out {
			out[i] = r.NormFloat64() + shift
		}
		return out
	}
	require.Greater(t, mannWhitneyP(draw(0), draw(0)), 0.01)
	require.Less(t, mannWhitneyP(draw(0), draw(0.5)), 1e-4)
	require.Equal(t, 1.0, mannWhitneyP([]float64{1, 1, 1}, []float64{1, 1, 1}), "all ties")
}

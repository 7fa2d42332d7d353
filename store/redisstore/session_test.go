package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func TestSessionStoreConformance(t *testing.T) {
	t.Parallel()
	// A store prefix with its own hash tag (a tenant, say) works the same.
	for _, tag := range []string{"", "{tenant-1}:"} {
		t.Run("prefix"+tag, func(t *testing.T) {
			t.Parallel()
			sessiontest.Run(t, func(t *testing.T) session.Store {
				c, prefix := testenv.Redis(t)
				return redisstore.New(c, prefix+tag).Session()
			})
		})
	}
}

// The tab-close mark holds across instances, each with its own client.
func TestSessionClosingAcrossInstances(t *testing.T) {
	t.Parallel()
	sessiontest.RunConcurrentClosing(t, func(t *testing.T) []session.Store {
		c, prefix := testenv.Redis(t)
		stores := make([]session.Store, 4)
		for i := range stores {
			own := redis.NewClient(&redis.Options{Addr: c.Options().Addr, PoolSize: 4})
			t.Cleanup(func() { _ = own.Close() })
			stores[i] = redisstore.New(own, prefix).Session()
		}
		return stores
	}, 30)
}

// 1,000 concurrent logins for one account from 4 Manager instances, each
// with its own client, on one Redis.
func TestSessionLimitAcrossInstances(t *testing.T) {
	t.Parallel()
	sessiontest.RunConcurrentLogins(t, func(t *testing.T) []session.Store {
		c, prefix := testenv.Redis(t)
		stores := make([]session.Store, 4)
		for i := range stores {
			own := redis.NewClient(&redis.Options{Addr: c.Options().Addr, PoolSize: 8})
			t.Cleanup(func() { _ = own.Close() })
			stores[i] = redisstore.New(own, prefix).Session()
		}
		return stores
	}, 1000)
}

// Keys carry TTLs that match the expiry of what they hold.
func TestSessionTTLs(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	st := redisstore.New(c, prefix)
	now := time.Now()
	clock := func() time.Time { return now }
	m := mustSessions(t, st.Session(), session.Config{RememberMe: true, Now: clock})
	ctx := context.Background()
	iss, err := m.Create(ctx, "u1", session.Login{Remember: true})
	require.NoError(t, err)
	hash, _ := hashToken(iss.Token)
	ttl := func(k string) time.Duration {
		d, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		return d
	}
	sk := redisstore.SessionHashKey(st.Session(), "t", hash)
	require.InDelta(t, float64(10*time.Minute), float64(ttl(sk)), float64(2*time.Second), "session TTL is the idle expiry")
	require.InDelta(t, float64(12*time.Hour), float64(ttl(redisstore.SessionUserKey(st.Session(), "u", "u1"))), float64(2*time.Second), "index TTL covers the absolute expiry")
	rh, _ := hashToken(iss.RememberToken)
	require.InDelta(t, float64(30*24*time.Hour), float64(ttl(redisstore.SessionHashKey(st.Session(), "r", rh))), float64(2*time.Second))

	// Five minutes later on the Manager's clock, the key has five minutes
	// of TTL left; a touch gives it the full idle window again.
	require.NoError(t, c.PExpire(ctx, sk, 5*time.Minute).Err())
	now = now.Add(5 * time.Minute)
	_, err = m.Validate(ctx, iss.Token)
	require.NoError(t, err)
	require.InDelta(t, float64(10*time.Minute), float64(ttl(sk)), float64(2*time.Second), "a touch moves the TTL on")

	require.NoError(t, m.Destroy(ctx, iss.Token))
	n, err := c.Exists(ctx, sk, redisstore.SessionHashKey(st.Session(), "r", rh)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "logout deletes the session and its remember-me token")
}

// commandCounter counts the commands sent to Redis.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// Validating a session whose activity need not be recorded is one round
// trip; recording it is one more.
func TestSessionValidateRoundTrips(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	own := redis.NewClient(&redis.Options{Addr: c.Options().Addr})
	t.Cleanup(func() { _ = own.Close() })
	// Load the Touch script first (a fresh Redis answers the first EVALSHA
	// with NOSCRIPT, and go-redis then sends EVAL: one call more).
	err := redisstore.New(c, prefix).Session().Touch(context.Background(), [32]byte{}, time.Now(), time.Now())
	require.ErrorIs(t, err, session.ErrNotFound)
	var cc commandCounter
	own.AddHook(&cc)
	sessiontest.RunValidateRoundTrips(t, redisstore.New(own, prefix).Session(), cc.n.Load)
}

func BenchmarkSessionValidate(b *testing.B) {
	c, prefix := testenv.Redis(b)
	sessiontest.BenchmarkValidate(b, redisstore.New(c, prefix).Session())
}

// A session record that is not exactly what the store writes (a partial,
// tampered or foreign value) is a malformed record: Get reports a system
// failure, which the Manager treats as a denial, and never a session with
// no user.
func TestSessionMalformedRecord(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	st := redisstore.New(c, prefix)
	now := time.Now()
	m := mustSessions(t, st.Session(), session.Config{Now: func() time.Time { return now }, MaxSessions: session.Unlimited})
	ctx := context.Background()
	for name, mangle := range map[string]func(string) string{
		"no user":       func(v string) string { return strings.Replace(v, "3:u-x", "0:", 1) },
		"empty":         func(string) string { return "" },
		"old hash form": func(string) string { return "h" },
		"trailing byte": func(v string) string { return v + "x" },
		"upper hex":     func(v string) string { return v[:1] + strings.ToUpper(v[1:17]) + v[17:] },
		"long length":   func(v string) string { return v[:81] + "99" + v[81:] },
	} {
		iss, err := m.Create(ctx, "u-x", session.Login{})
		require.NoError(t, err)
		h, _ := hashToken(iss.Token)
		key := sessionKey(st, h)
		v, err := c.Get(ctx, key).Result()
		require.NoError(t, err)
		require.NoError(t, c.Set(ctx, key, mangle(v), redis.KeepTTL).Err())
		_, err = m.Validate(ctx, iss.Token)
		require.Error(t, err, name)
		require.NotErrorIs(t, err, session.ErrNotFound, name)
	}
}

// Validating a request on Redis allocates at most 10 times (one GET of a
// compact record; the 12-field HMGET it replaced made 47). Allocation
// counts do not depend on the machine's speed; the race detector adds its
// own, so the check runs without it.
func TestSessionValidateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	c, prefix := testenv.Redis(t)
	now := time.Now()
	m := mustSessions(t, redisstore.New(c, prefix).Session(), session.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	iss, err := m.Create(ctx, "user-42", session.Login{Factors: []string{"password"}, IP: "192.0.2.1", UserAgent: "Mozilla/5.0"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 10.0)
}

// mustSessions returns session.New(st, cfg), failing tb on an error.
func mustSessions(tb testing.TB, st session.Store, cfg session.Config) *session.Manager {
	tb.Helper()
	m, err := session.New(st, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// hashToken is the SHA-256 under which a store keeps token, as the Manager
// computes it: of the 32 bytes that token encodes in base64url.
func hashToken(token string) ([32]byte, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 32 {
		return [32]byte{}, false
	}
	return sha256.Sum256(raw), true
}

// resumeOverHTTP sends m's middleware a request that carries only the
// remember-me cookie rememberToken, as a browser does after a restart, and
// returns the status and the session and remember-me tokens it set ("" for
// none or cleared).
func resumeOverHTTP(m *session.Manager, rememberToken string) (status int, token, remember string) {
	name := m.Config().CookieName
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.AddCookie(&http.Cookie{Name: name + "-remember", Value: rememberToken})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		switch c.Name {
		case name:
			token = c.Value
		case name + "-remember":
			remember = c.Value
		}
	}
	return w.Code, token, remember
}

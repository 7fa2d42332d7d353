package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/password"
)

// clock is a fake clock the tests move forward.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// testApp is the app on a fresh SQLite file, with cheap password hashes
// and exports, and a fake clock.
type testApp struct {
	*App
	db    *sql.DB
	clock *clock
	srv   *httptest.Server
}

func newTestApp(t testing.TB, tweak func(*Config)) *testApp {
	t.Helper()
	db := testenv.SQLite(t)
	kek, err := keyring.NewLocalKEK(keyring.GenerateMasterKey().Bytes())
	require.NoError(t, err)
	c := &clock{now: time.Now().UTC()}
	cfg := Config{
		DB: db, KEK: kek, AuditKey: keyring.GenerateMasterKey().Bytes(),
		HashParams:       password.Params{Memory: 1024, Time: 1, Parallelism: 1},
		ExportWorkFactor: 10,
		Mail:             io.Discard,
		DevMailbox:       true,
		Log:              slog.New(slog.DiscardHandler),
		Now:              c.Now,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	app, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ta := &testApp{App: app, db: db, clock: c}
	ta.srv = httptest.NewServer(app.Handler())
	t.Cleanup(ta.srv.Close)
	app.cfg.BaseURL = ta.srv.URL
	return ta
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see where each answer points.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// answer is a response, read whole.
type answer struct {
	StatusCode int
	Header     http.Header
	Body       string
	Cookies    []*http.Cookie
}

// do sends a same-origin request, as a browser's form would.
func (ta *testApp) do(t testing.TB, c *http.Client, method, path string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, ta.srv.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return answer{StatusCode: res.StatusCode, Header: res.Header, Body: string(b), Cookies: res.Cookies()}
}

const testPassword = "correct horse battery staple"

// signUpAndIn creates an account for email and signs c in with it
// (password only: no second factor yet).
func (ta *testApp) signUpAndIn(t testing.TB, c *http.Client, email string) {
	t.Helper()
	res := ta.do(t, c, "POST", "/signup", url.Values{"first_name": {"Łukasz"}, "last_name": {"Żółć"}, "email": {email}, "password": {testPassword}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	ta.do(t, c, "GET", "/signin", nil) // the browser-binding cookie
	res = ta.do(t, c, "POST", "/signin", url.Values{"login": {email}, "password": {testPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/clients", res.Header.Get("Location"))
}

func (ta *testApp) userID(t testing.TB, login string) string {
	t.Helper()
	u, err := ta.App.db.userByLogin(t.Context(), login)
	require.NoError(t, err)
	return u.ID
}

package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBrowserFlow drives the example as a browser would.
func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	app, err := newApp(clock)
	require.NoError(t, err)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	browser := func() *http.Client {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		return &http.Client{Jar: jar}
	}
	// do sends a request and returns the status and body.
	do := func(c *http.Client, method, path string, form url.Values) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
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
		return res.StatusCode, string(b)
	}
	alice := url.Values{"user": {"alice"}}
	a := browser()
	_, body := do(a, http.MethodPost, "/login", alice)
	require.Contains(t, body, "Logged in as <b>alice</b>")

	// A second device is refused: the single-session rule.
	code, body := do(browser(), http.MethodPost, "/login", alice)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body, "already logged in elsewhere")

	_, body = do(a, http.MethodGet, "/session/time-left", nil)
	require.Regexp(t, `"idle_seconds":1(19|20),`, body)

	// The pagehide beacon: a same-origin POST with the cookies. A reload
	// follows it and keeps the session; with no request after it, the
	// session ends when the grace is over.
	code, _ = do(a, http.MethodPost, "/session/close", nil)
	require.Equal(t, http.StatusNoContent, code)
	_, body = do(a, http.MethodGet, "/app/", nil)
	require.Contains(t, body, "Logged in as", "a reload keeps the session")
	code, _ = do(a, http.MethodPost, "/session/close", nil)
	require.Equal(t, http.StatusNoContent, code)
	mu.Lock()
	now = now.Add(10 * time.Second) // the default Config.CloseGrace
	mu.Unlock()
	_, body = do(a, http.MethodGet, "/app/", nil)
	require.Contains(t, body, "Log in.", "the tab was closed: logged out, sent back to the login page")

	// Alice can log in again at once, and idles out after 2 minutes.
	_, body = do(a, http.MethodPost, "/login", alice)
	require.Contains(t, body, "Logged in as")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, body = do(a, http.MethodGet, "/app/", nil)
	require.Contains(t, body, "Log in.")
}

package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	h := ta.Handler()
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain http", false}, {"tls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/signin", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code)
			csp := w.Header().Get("Content-Security-Policy")
			require.Contains(t, csp, "frame-ancestors 'none'")
			require.Contains(t, csp, "script-src 'self'")
			require.NotContains(t, csp, "unsafe-inline")
			require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			hsts := w.Header().Get("Strict-Transport-Security")
			if tc.tls {
				require.Contains(t, hsts, "max-age=")
			} else {
				require.Empty(t, hsts, "HSTS over plain HTTP is ignored by browsers and breaks local development")
			}
		})
	}
}

func TestSignedInPagesAreNotStored(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	for _, path := range []string{"/clients", "/account", "/account/export", "/admin"} {
		res := ta.do(t, c, "GET", path, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"), path)
	}
	// A visitor is sent to sign in, and the answer is not stored either.
	res := ta.do(t, browser(t), "GET", "/clients", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/signin", res.Header.Get("Location"))
}

func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	form := url.Values{"name": {"Mallory's client"}}
	for _, tc := range []struct {
		name   string
		header string
		value  string
	}{
		{"Sec-Fetch-Site cross-site", "Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site same-site", "Sec-Fetch-Site", "same-site"},
		{"Origin of another site", "Origin", "https://evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", ta.srv.URL+"/clients/new", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(tc.header, tc.value)
			res, err := c.Do(req)
			require.NoError(t, err)
			_ = res.Body.Close()
			require.Equal(t, http.StatusForbidden, res.StatusCode)
		})
	}
	// Nothing was created; the same form from the app itself works.
	require.NotContains(t, ta.do(t, c, "GET", "/clients", nil).Body, "Mallory")
	res := ta.do(t, c, "POST", "/clients/new", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Contains(t, ta.do(t, c, "GET", "/clients", nil).Body, "Mallory&#39;s client")
}

// TestFailClosed: when the database fails, a signed-in browser is not
// served as signed in, and nobody can sign in.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	require.NoError(t, ta.db.Close())

	res := ta.do(t, c, "GET", "/clients", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/signin"))

	other := browser(t)
	ta.do(t, other, "GET", "/signin", nil)
	res = ta.do(t, other, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	require.NotContains(t, res.Body, "sql", "errors stay in the log")
	for _, ck := range res.Cookies {
		require.NotEqual(t, ta.sessions.Config().CookieName, ck.Name, "no session cookie on failure")
	}
}

// TestSingleSessionAndIdleExpiry covers the session rules over plain HTTP;
// the browser test walks them in Chromium.
func TestSingleSessionAndIdleExpiry(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	laptop := browser(t)
	ta.signUpAndIn(t, laptop, "ada@example.com")

	phone := browser(t)
	ta.do(t, phone, "GET", "/signin", nil)
	res := ta.do(t, phone, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, http.StatusConflict, res.StatusCode)
	require.Contains(t, res.Body, "already signed in on another device")

	ta.clock.Add(11 * time.Minute)
	res = ta.do(t, laptop, "GET", "/clients", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/signin?ended=1", res.Header.Get("Location"))
}

func TestAdminOnly(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	ta.signUpAndIn(t, browser(t), "admin@example.com") // the first account is the admin
	c := browser(t)
	ta.signUpAndIn(t, c, "user@example.com")
	require.Equal(t, http.StatusForbidden, ta.do(t, c, "GET", "/admin", nil).StatusCode)
	require.Equal(t, http.StatusForbidden, ta.do(t, c, "POST", "/admin/verify", url.Values{}).StatusCode)
}

// TestRunStops: the housekeeping loop (retention scheduler, session
// cleanup, audit checkpoints) runs and stops with its context.
func TestRunStops(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := ta.Run(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestConcurrentSignUps: many sign-ups with one address at once make one
// account, and every request gets the same answer.
func TestConcurrentSignUps(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { // no require here: FailNow belongs to the test's goroutine
			form := url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.com"}, "password": {testPassword}}
			req, _ := http.NewRequest("POST", ta.srv.URL+"/signup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			_ = res.Body.Close()
			codes <- res.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	var count int
	require.NoError(t, ta.db.QueryRow(`SELECT count(*) FROM webapp_users`).Scan(&count))
	require.Equal(t, 1, count)
}

// TestBodyCap: an unauthenticated POST with a 256 KiB field is refused
// with 413 and a clear message after reading at most 64 KiB; forms of a
// normal size pass.
func TestBodyCap(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	for _, tc := range []struct {
		name   string
		path   string
		field  string
		size   int
		status int
	}{
		{"password check, 256 KiB", "/password/check", "password", 256 << 10, http.StatusRequestEntityTooLarge},
		{"sign-in, 256 KiB", "/signin", "password", 256 << 10, http.StatusRequestEntityTooLarge},
		{"sign-up, 65 KiB", "/signup", "first_name", 65 << 10, http.StatusRequestEntityTooLarge},
		{"password check, normal", "/password/check", "password", 40, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ta.do(t, browser(t), "POST", tc.path, url.Values{tc.field: {strings.Repeat("a", tc.size)}})
			require.Equal(t, tc.status, res.StatusCode, res.Body)
			if tc.status == http.StatusRequestEntityTooLarge {
				require.Contains(t, res.Body, "too large")
			}
		})
	}
}

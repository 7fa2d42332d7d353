package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignOutClearsBrowserData: ASVS 5.0 14.3.1. Signing out ends the
// session on the server, expires its cookie and tells the browser to drop
// what it cached or stored for the site (Clear-Site-Data).
func TestSignOutClearsBrowserData(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "leaving@example.com")
	require.Equal(t, http.StatusOK, ta.do(t, c, "GET", "/account", nil).StatusCode)

	res := ta.do(t, c, "POST", "/signout", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, `"cache", "storage"`, res.Header.Get("Clear-Site-Data"))
	expired := false
	for _, ck := range res.Cookies {
		if strings.Contains(ck.Name, "session") && ck.MaxAge < 0 {
			expired = true
		}
	}
	require.True(t, expired, "the session cookie is expired: %v", res.Cookies)
	require.NotEqual(t, http.StatusOK, ta.do(t, c, "GET", "/account", nil).StatusCode)
}

// TestCookiesCarryNoPersonalData: ASVS 5.0 14.3.3. Everything the app
// keeps in the browser through sign-up and sign-in is a cookie that
// scripts cannot read, holding an opaque random token, never the
// address, login or user id.
func TestCookiesCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	const email = "cookies@example.com"
	var set []*http.Cookie
	res := ta.do(t, c, "POST", "/signup", url.Values{"first_name": {"Anna"}, "last_name": {"Nowak"}, "email": {email}, "password": {testPassword}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	set = append(set, res.Cookies...)
	set = append(set, ta.do(t, c, "GET", "/signin", nil).Cookies...)
	res = ta.do(t, c, "POST", "/signin", url.Values{"login": {email}, "password": {testPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	set = append(set, res.Cookies...)
	set = append(set, ta.do(t, c, "GET", "/account", nil).Cookies...)
	require.NotEmpty(t, set)

	userID := ta.userID(t, email)
	for _, ck := range set {
		require.True(t, ck.HttpOnly, "cookie %s is readable by scripts", ck.Name)
		for _, personal := range []string{email, "cookies", "Anna", "Nowak", userID} {
			require.NotContains(t, strings.ToLower(ck.Value), strings.ToLower(personal), "cookie %s", ck.Name)
		}
		if ck.Value != "" {
			require.GreaterOrEqual(t, len(ck.Value), 22, "cookie %s is not a 128-bit random token", ck.Name)
		}
	}
}

package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzOnceToken: form tokens come from the client. use never panics; a
// token the guard did not issue is never remembered, so it can neither be
// refused nor fill the guard; an issued one is refused the second time only.
func FuzzOnceToken(f *testing.F) {
	for _, s := range []string{"", ".", "x.y", "a.b.c", "AAAA.", ".AAAA", "nonce.AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	g := newOnceGuard(time.Now)
	f.Add(g.issue())
	f.Fuzz(func(t *testing.T, token string) {
		if g.use(token) {
			t.Fatalf("a token used for the first time was refused: %q", token)
		}
		again := g.use(token)
		g.mu.Lock()
		_, kept := g.set[token]
		n := len(g.set)
		g.mu.Unlock()
		if again != kept {
			t.Fatalf("refused again = %v but remembered = %v for %q", again, kept, token)
		}
		if n > onceCapacity {
			t.Fatalf("the guard holds %d tokens", n)
		}
		fresh := g.issue()
		if g.use(fresh) || !g.use(fresh) {
			t.Fatal("an issued token is not refused exactly the second time")
		}
	})
}

// TestOnceGuardBounded: remembered tokens expire after onceTTL.
func TestOnceGuardBounded(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now()}
	g := newOnceGuard(c.Now)
	tok := g.issue()
	g.use(tok)
	c.Add(onceTTL + time.Second)
	g.use(g.issue()) // the next use sweeps what expired
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, kept := g.set[tok]; kept || len(g.set) != 1 {
		t.Fatalf("expired token kept: %v, %d remembered", kept, len(g.set))
	}
}

// TestRefusedFormMaySendAgain: a form the server refused (a wrong
// password: 422) did nothing, so sending it again, corrected, must be
// handled, not answered "already sent, the first submission was handled".
func TestRefusedFormMaySendAgain(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	token := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(ta.do(t, c, "GET", "/account/export", nil).Body)
	require.NotNil(t, token)
	form := url.Values{"password": {"not my password"}, "passphrase": {"a long enough passphrase"}, "form_token": {token[1]}}
	res := ta.do(t, c, "POST", "/account/export", form)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	form.Set("password", testPassword)
	res = ta.do(t, c, "POST", "/account/export", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the refused first submission did nothing: %s", res.Body)
	// Once handled, the same form is refused.
	require.Equal(t, http.StatusConflict, ta.do(t, c, "POST", "/account/export", form).StatusCode)
}

// TestFormAfterSessionEndedMaySendAgain: a form posted after the session
// ended was sent to the sign-in page and did nothing; after signing in
// again, the same form is handled.
func TestFormAfterSessionEndedMaySendAgain(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	token := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(ta.do(t, c, "GET", "/clients/new", nil).Body)
	require.NotNil(t, token)
	form := url.Values{"name": {"Charles Babbage"}, "form_token": {token[1]}}
	ta.clock.Add(ta.sessions.Config().IdleTimeout + time.Minute)
	res := ta.do(t, c, "POST", "/clients/new", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Contains(t, res.Header.Get("Location"), "/signin")
	ta.do(t, c, "GET", "/signin", nil)
	require.Equal(t, "/clients", ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}}).Header.Get("Location"))
	res = ta.do(t, c, "POST", "/clients/new", form)
	require.Equal(t, "/clients?saved=1", res.Header.Get("Location"), "the first submission did nothing: %s", res.Body)
}

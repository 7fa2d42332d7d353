package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a console the app writes to from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestMailboxAttackPathClosed is the attack of the review: an anonymous
// client asks for the admin's password reset and reads the link in the
// development mailbox, then the emailed sign-in code, and reaches /admin.
// Now the mailbox shows a signed-in user their own mail only, a visitor
// nothing, and the console never carries a token or a code.
func TestMailboxAttackPathClosed(t *testing.T) {
	t.Parallel()
	var console syncBuffer
	ta := newTestApp(t, func(c *Config) { c.Mail = &console })
	admin := browser(t)
	ta.signUpAndIn(t, admin, "admin@example.com")
	ta.enableEmailCodes(t, admin, ta.enrolTOTP(t, admin))

	mallory := browser(t)
	ta.do(t, mallory, "GET", "/signin", nil)
	require.Equal(t, http.StatusOK, ta.do(t, mallory, "POST", "/forgot", url.Values{"email": {"admin@example.com"}}).StatusCode)
	token := regexp.MustCompile(`/reset#([A-Za-z0-9_-]+)`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, token, "the reset mail was sent")

	// Signed out: no mail at all.
	res := ta.do(t, mallory, "GET", "/dev/mailbox", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/signin"))
	require.NotContains(t, res.Body, token[1])

	// Signed in with an account of her own: her mail, not the admin's.
	ta.signUpAndIn(t, mallory, "mallory@example.com")
	res = ta.do(t, mallory, "GET", "/dev/mailbox", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Body, "mallory@example.com")
	require.NotContains(t, res.Body, "admin@example.com")
	require.NotContains(t, res.Body, token[1])

	// The emailed sign-in code is not readable either: ask for one with
	// the admin's password (as if Mallory had it) and look.
	other := browser(t)
	ta.do(t, other, "GET", "/signin", nil)
	ta.do(t, admin, "POST", "/signout", url.Values{})
	require.Equal(t, "/signin/mfa", ta.do(t, other, "POST", "/signin", url.Values{"login": {"admin@example.com"}, "password": {testPassword}}).Header.Get("Location"))
	ta.do(t, other, "POST", "/signin/mfa/email", url.Values{})
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, "the code was sent")
	require.NotContains(t, ta.do(t, other, "GET", "/dev/mailbox", nil).Body, code[1])
	require.NotContains(t, ta.do(t, mallory, "GET", "/dev/mailbox", nil).Body, code[1])

	// The console names recipients and subjects, never a token or a code.
	log := console.String()
	require.Contains(t, log, "Reset your password")
	require.NotContains(t, log, token[1])
	require.NotContains(t, log, code[1])
}

// TestMailboxModes: off by default (nothing kept, nothing shown); open
// only when asked, with a banner on every page.
func TestMailboxModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		own, open      bool
		visitor        int // status of /dev/mailbox for a visitor
		visitorSeesAll bool
		// What the pages say of the mail just sent: each mode tells the
		// truth about where (or whether) it can be read.
		notice, signup string
	}{
		{"default: off", false, false, http.StatusNotFound, false, "development mail is off", "not delivered"},
		{"own mail only", true, false, http.StatusSeeOther, false, "shows mail only to signed-in users", "Once signed in, your development mailbox shows the message"},
		{"insecure open mailbox", false, true, http.StatusOK, true, "(see the development mailbox)", `id="mailbox-link"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var console syncBuffer
			ta := newTestApp(t, func(c *Config) { c.Mail, c.DevMailbox, c.InsecureOpenMailbox = &console, tc.own, tc.open })
			c := browser(t)
			ta.signUpAndIn(t, c, "ada@example.com")
			forgot := ta.do(t, browser(t), "POST", "/forgot", url.Values{"email": {"ada@example.com"}}).Body
			require.Contains(t, forgot, tc.notice)
			signup := ta.do(t, browser(t), "POST", "/signup", url.Values{"first_name": {"Bob"}, "last_name": {"B"}, "email": {"bob@example.com"}, "password": {testPassword}}).Body
			require.Contains(t, signup, tc.signup)
			if tc.own || tc.open {
				require.NotContains(t, forgot+signup, "not delivered")
			} else {
				require.NotContains(t, forgot+signup, "see the development mailbox")
			}

			res := ta.do(t, browser(t), "GET", "/dev/mailbox", nil)
			require.Equal(t, tc.visitor, res.StatusCode)
			require.Equal(t, tc.visitorSeesAll, strings.Contains(res.Body, "/reset#"))
			signin := ta.do(t, browser(t), "GET", "/signin", nil).Body
			require.Equal(t, tc.open, strings.Contains(signin, `id="open-mailbox"`), "the banner shows exactly when the mailbox is open")
			if !tc.own && !tc.open {
				require.Empty(t, ta.mail.messages(""), "mail off: nothing kept")
				require.Equal(t, http.StatusNotFound, ta.do(t, c, "GET", "/dev/mailbox", nil).StatusCode)
				require.Contains(t, console.String(), "not sent")
			}
			require.NotContains(t, console.String(), "/reset#")
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "192.0.2.1:80": false, "example.com:80": false, "garbage": false,
	} {
		require.Equal(t, want, loopback(addr), addr)
	}
}

// TestMailboxNoCaseFoldLookalike: an address that differs from another
// only by a character Unicode case-folds onto an ASCII letter ("ſ", long
// s, folds to "s"; "K", the Kelvin sign, to "k") is a different account,
// so its owner must not read the other address's mail: a reset link for
// sam@example.com in the mailbox of ſam@example.com is a takeover.
func TestMailboxNoCaseFoldLookalike(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	ta.signUpAndIn(t, browser(t), "sam@example.com")
	mallory := browser(t)
	ta.signUpAndIn(t, mallory, "\u017fam@example.com")
	ta.do(t, browser(t), "POST", "/forgot", url.Values{"email": {"sam@example.com"}})
	token := regexp.MustCompile(`/reset#([A-Za-z0-9_-]+)`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, token, "the reset mail was sent")
	res := ta.do(t, mallory, "GET", "/dev/mailbox", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, res.Body, token[1], "a look-alike address read another account's reset link")
}

// TestOpenMailboxRefusesForeignHost: DNS rebinding. A page on
// evil.example re-points its name at 127.0.0.1 and, now same-origin with
// the demo, reads the open mailbox's reset links. The open mailbox answers
// only requests addressed to a loopback name.
func TestOpenMailboxRefusesForeignHost(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, func(c *Config) { c.InsecureOpenMailbox = true })
	ta.signUpAndIn(t, browser(t), "ada@example.com")
	ta.do(t, browser(t), "POST", "/forgot", url.Values{"email": {"ada@example.com"}})
	require.Contains(t, ta.do(t, browser(t), "GET", "/dev/mailbox", nil).Body, "/reset#", "loopback Host: open")
	for _, host := range []string{"evil.example:" + strings.Split(ta.srv.URL, ":")[2], "evil.example", "localhost.evil.example"} {
		req, err := http.NewRequest("GET", ta.srv.URL+"/dev/mailbox", nil)
		require.NoError(t, err)
		req.Host = host
		res, err := browser(t).Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		require.NotContains(t, string(b), "/reset#", host)
		require.Equal(t, http.StatusMisdirectedRequest, res.StatusCode, host)
	}
}

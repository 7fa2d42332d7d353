package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReauthWithEmailedCodeOnly: a user whose only second factor is emailed
// codes re-authenticates through the forms' "Email me a code" button (the
// code field had nothing to fill in before); mfa throttles the button as it
// throttles the sign-in's resend, a user without emailed codes gets no mail
// from it, and it returns only to a known page.
func TestReauthWithEmailedCodeOnly(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	plain := browser(t)
	ta.signUpAndIn(t, plain, "admin@example.com")
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	ta.enableEmailCodes(t, c, nil)

	for _, page := range []string{"/account/mfa", "/account/export", "/account/delete"} {
		require.Contains(t, ta.do(t, c, "GET", page, nil).Body, `value="`+page[len("/account/"):]+`">Email me a code</button>`, page)
		require.NotContains(t, ta.do(t, plain, "GET", page, nil).Body, "Email me a code", page)
	}

	ta.clock.Add(2 * time.Minute) // past the resend interval of the confirmation mail
	res := ta.do(t, c, "POST", "/account/reauth/email-code", url.Values{"next": {"mfa"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/account/mfa?mailed=1", res.Header.Get("Location"))
	require.Contains(t, ta.do(t, c, "GET", "/account/mfa?mailed=1", nil).Body, "We sent a code to your email address")
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, ta.lastMail())

	// Asked again at once: throttled, no second mail.
	before := len(ta.mail.messages("ada@example.com"))
	res = ta.do(t, c, "POST", "/account/reauth/email-code", url.Values{"next": {"mfa"}})
	require.Equal(t, "/account/mfa?mailed=wait", res.Header.Get("Location"))
	require.Contains(t, ta.do(t, c, "GET", "/account/mfa?mailed=wait", nil).Body, "Wait a minute")
	require.Len(t, ta.mail.messages("ada@example.com"), before)

	// The mailed code re-authenticates: emailed codes go off.
	res = ta.do(t, c, "POST", "/account/mfa/email/remove", url.Values{"password": {testPassword}, "code": {code[1]}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	require.Contains(t, res.Body, "Emailed codes are off")

	// Without emailed codes the button mails nothing; an unknown page is
	// refused (no open redirect).
	before = len(ta.mail.messages(""))
	ta.clock.Add(2 * time.Minute)
	res = ta.do(t, plain, "POST", "/account/reauth/email-code", url.Values{"next": {"export"}})
	require.Equal(t, "/account/export?mailed=off", res.Header.Get("Location"))
	require.Len(t, ta.mail.messages(""), before)
	require.Equal(t, http.StatusBadRequest, ta.do(t, c, "POST", "/account/reauth/email-code", url.Values{"next": {"//evil.example"}}).StatusCode)
}

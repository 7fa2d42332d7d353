package main

import (
	"encoding/base32"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// resetPassword asks for a reset link for email, follows it from the
// development mailbox and sets newPassword.
func (ta *testApp) resetPassword(t *testing.T, email, newPassword string) {
	t.Helper()
	ta.do(t, browser(t), "POST", "/forgot", url.Values{"email": {email}})
	token := regexp.MustCompile(`/reset#([A-Za-z0-9_-]+)`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, token, ta.lastMail())
	res := ta.do(t, browser(t), "POST", "/reset", url.Values{"token": {token[1]}, "password": {newPassword}})
	require.Equal(t, "/signin?reset=1", res.Header.Get("Location"), res.Body)
}

// TestResetKeepsTOTPAsSecondFactor: whoever reads the mailbox can reset
// the password, but for a user with an authenticator app the mailbox must
// not also pass as the second factor.
func TestResetKeepsTOTPAsSecondFactor(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	secret := ta.enrolTOTP(t, c)
	ta.do(t, c, "POST", "/signout", url.Values{})
	const newPassword = "violet harbour engine room"
	ta.resetPassword(t, "ada@example.com", newPassword)

	ta.do(t, c, "GET", "/signin", nil)
	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {newPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"), "the reset does not bypass the second factor")

	// No sign-in code is mailed to a user who did not turn emailed codes on.
	before := len(ta.mail.messages())
	ta.do(t, c, "POST", "/signin/mfa/email", url.Values{})
	require.Len(t, ta.mail.messages(), before, "a sign-in code was mailed: %s", ta.lastMail())

	// And one mailed anyway is refused.
	require.NoError(t, ta.factors.SendCode(t.Context(), ta.userID(t, "ada@example.com"), "ada@example.com", mfa.PurposeLogin))
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, ta.lastMail())
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {code[1]}})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "an emailed code passed as the second factor")
	require.Equal(t, http.StatusSeeOther, ta.do(t, c, "GET", "/clients", nil).StatusCode, "still signed out")

	// The authenticator app still works.
	ta.clock.Add(30 * time.Second)
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {ta.totp(t, secret)}})
	require.Equal(t, "/clients", res.Header.Get("Location"), res.Body)
}

// enableEmailCodes turns emailed codes on for c's account on the security
// page.
func (ta *testApp) enableEmailCodes(t *testing.T, c *http.Client) {
	t.Helper()
	page := ta.do(t, c, "POST", "/account/mfa/email", url.Values{})
	require.Equal(t, http.StatusOK, page.StatusCode, page.Body)
	require.Contains(t, page.Body, `action="/account/mfa/email/confirm"`)
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, ta.lastMail())
	page = ta.do(t, c, "POST", "/account/mfa/email/confirm", url.Values{"code": {code[1]}})
	require.Equal(t, http.StatusOK, page.StatusCode, page.Body)
	require.Contains(t, page.Body, "Emailed codes are on")
}

// TestEmailCodesToggle: turning emailed codes on takes the mailed code;
// turning them off takes the password, and then no code is mailed.
func TestEmailCodesToggle(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	secret := ta.enrolTOTP(t, c)
	page := ta.do(t, c, "POST", "/account/mfa/email", url.Values{})
	require.Contains(t, page.Body, `action="/account/mfa/email/confirm"`)
	page = ta.do(t, c, "POST", "/account/mfa/email/confirm", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode)
	ta.clock.Add(2 * time.Minute)
	ta.enableEmailCodes(t, c)
	page = ta.do(t, c, "POST", "/account/mfa/email/remove", url.Values{"password": {"wrong password here"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode)
	page = ta.do(t, c, "POST", "/account/mfa/email/remove", url.Values{"password": {testPassword}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode, "a second factor is re-proved too (ASVS 7.5.1)")
	ta.clock.Add(time.Minute)
	page = ta.do(t, c, "POST", "/account/mfa/email/remove", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Contains(t, page.Body, "Emailed codes are off")
	st, err := ta.factors.Status(t.Context(), ta.userID(t, "ada@example.com"))
	require.NoError(t, err)
	require.False(t, st.Email)
}

// TestSecondFactorLockIsExplained: after too many wrong codes the page and
// a mail say that the second factor is locked, until when, and what to do;
// while it is locked even the right code gets that answer, not "not valid"
// or "expired".
func TestSecondFactorLockIsExplained(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	secret := ta.enrolTOTP(t, c)
	ta.do(t, c, "POST", "/signout", url.Values{})
	ta.clock.Add(30 * time.Second)
	until := ta.clock.Now().Add(15 * time.Minute).UTC().Format("15:04")

	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"))
	wrong := "000000"
	if ta.totp(t, secret) == wrong {
		wrong = "111111"
	}
	for range 4 {
		res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {wrong}})
		require.Contains(t, res.Body, "That code is not valid")
	}
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {wrong}})
	require.NotContains(t, res.Body, "expired")
	require.Contains(t, res.Body, "locked until "+until+" UTC")
	require.Contains(t, res.Body, "recovery code")
	require.Contains(t, ta.lastMail(), "locked until "+until+" UTC", "the owner is told")
	require.Contains(t, ta.lastMail(), "reset")

	// A new sign-in with the right code is told about the lock.
	res = ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"))
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {ta.totp(t, secret)}})
	require.Contains(t, res.Body, "locked until "+until+" UTC")
	require.NotContains(t, res.Body, "not valid")
}

// TestPasswordLockoutMailSaysHowLong: the lockout mail gives the pause's
// end and length, and the way out.
func TestPasswordLockoutMailSaysHowLong(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	ta.do(t, c, "POST", "/signout", url.Values{})
	for i := 0; i < 30 && !strings.Contains(ta.lastMail(), "wrong passwords"); i++ {
		res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {"not the password at all"}})
		require.Contains(t, res.Body, "That login and password do not match an account", "the page reveals no lock")
	}
	require.Contains(t, ta.lastMail(), "paused until "+ta.clock.Now().Add(time.Minute).UTC().Format("15:04")+" UTC (1 minute)")
}

// TestEnrolTypoKeepsQR: a mistyped first code shows the same QR code and
// key again, so the app already scanned still works.
func TestEnrolTypoKeepsQR(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	secretRE := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	page := ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{})
	first := secretRE.FindStringSubmatch(page.Body)
	require.NotNil(t, first, page.Body)
	page = ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode)
	again := secretRE.FindStringSubmatch(page.Body)
	require.NotNil(t, again, "the QR code is shown again: %s", page.Body)
	require.Equal(t, first[1], again[1])
	// Starting over also shows the same key while it is pending.
	page = ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{})
	require.Equal(t, first[1], secretRE.FindStringSubmatch(page.Body)[1])
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(first[1])
	require.NoError(t, err)
	page = ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {ta.totp(t, secret)}})
	require.Contains(t, page.Body, `id="recovery-codes"`)
}

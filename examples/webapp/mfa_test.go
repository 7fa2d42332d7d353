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
	ta, c, _ := signedInUser(t)
	secret := ta.enrolTOTP(t, c)
	ta.do(t, c, "POST", "/signout", url.Values{})
	const newPassword = "violet harbour engine room"
	ta.resetPassword(t, "ada@example.com", newPassword)

	ta.do(t, c, "GET", "/signin", nil)
	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {newPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"), "the reset does not bypass the second factor")

	// No sign-in code is mailed to a user who did not turn emailed codes on.
	before := len(ta.mail.messages("ada@example.com"))
	ta.do(t, c, "POST", "/signin/mfa/email", url.Values{})
	require.Len(t, ta.mail.messages("ada@example.com"), before, "a sign-in code was mailed: %s", ta.lastMail())

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
func (ta *testApp) enableEmailCodes(t *testing.T, c *http.Client, totpSecret []byte) {
	t.Helper()
	form := url.Values{"password": {testPassword}}
	if totpSecret != nil { // a second factor is re-proved too (ASVS 7.5.1)
		ta.clock.Add(time.Minute)
		form.Set("code", ta.totp(t, totpSecret))
	}
	page := ta.do(t, c, "POST", "/account/mfa/email", form)
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
	ta, c, _ := signedInUser(t)
	secret := ta.enrolTOTP(t, c)
	ta.clock.Add(time.Minute)
	page := ta.do(t, c, "POST", "/account/mfa/email", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Contains(t, page.Body, `action="/account/mfa/email/confirm"`)
	page = ta.do(t, c, "POST", "/account/mfa/email/confirm", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode)
	ta.clock.Add(2 * time.Minute)
	ta.enableEmailCodes(t, c, secret)
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
	ta, c, _ := signedInUser(t)
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
	ta, c, _ := signedInUser(t)
	ta.do(t, c, "POST", "/signout", url.Values{})
	for i := 0; i < 30 && !strings.Contains(ta.lastMail(), "wrong passwords"); i++ {
		res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {"not the password at all"}})
		require.Contains(t, res.Body, "That login and password do not match an account", "the page reveals no lock")
	}
	require.Contains(t, ta.lastMail(), "paused until "+ta.clock.Now().Add(time.Minute).UTC().Format("15:04")+" UTC (1 minute)")
}

// TestEnrolTypoKeepsQR: after a mistyped first code the app already
// scanned still works, and asking again with the password shows the same
// QR code and key; without the password (a stolen session cookie) the
// pending key is not shown.
func TestEnrolTypoKeepsQR(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	secretRE := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	page := ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{"password": {testPassword}})
	first := secretRE.FindStringSubmatch(page.Body)
	require.NotNil(t, first, page.Body)
	page = ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode)
	require.Contains(t, page.Body, `action="/account/mfa/confirm"`, "the code can be typed again: %s", page.Body)
	require.NotContains(t, page.Body, first[1], "a wrong code showed the pending key to whoever holds the session")
	for _, pw := range noOrWrongPassword {
		page = ta.do(t, c, "POST", "/account/mfa/enrol", pw)
		require.NotContains(t, page.Body, first[1])
	}
	// Asking again with the password shows the same key while it is
	// pending.
	page = ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{"password": {testPassword}})
	again := secretRE.FindStringSubmatch(page.Body)
	require.NotNil(t, again, "the QR code is shown again: %s", page.Body)
	require.Equal(t, first[1], again[1])
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(first[1])
	require.NoError(t, err)
	page = ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {ta.totp(t, secret)}})
	require.Contains(t, page.Body, `id="recovery-codes"`)
}

// signedInUser is a signed-in account with no second factor, its browser
// and its user id.
func signedInUser(t *testing.T) (*testApp, *http.Client, string) {
	t.Helper()
	ta := newTestApp(t, nil)
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	return ta, c, ta.userID(t, "ada@example.com")
}

// totpUser is a signed-in account with an authenticator app, and the
// app's secret.
func totpUser(t *testing.T) (*testApp, *http.Client, string, []byte) {
	t.Helper()
	ta, c, id := signedInUser(t)
	secret := ta.enrolTOTP(t, c)
	return ta, c, id, secret
}

// noOrWrongPassword are the forms a holder of only the session cookie can
// send.
var noOrWrongPassword = []url.Values{{}, {"password": {"wrong password here"}}}

// requireRefusedWithoutPassword posts to path with no and with a wrong
// password and requires a refusal whose page does not contain secret.
func (ta *testApp) requireRefusedWithoutPassword(t *testing.T, c *http.Client, path, secret string) {
	t.Helper()
	for _, pw := range noOrWrongPassword {
		page := ta.do(t, c, "POST", path, pw)
		require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode, page.Body)
		require.NotContains(t, page.Body, secret)
	}
}

// TestEmailCodesNeedPassword: turning emailed codes on adds a way past the
// second factor, so it takes the password (ASVS 7.5.1). Whoever holds only
// a stolen session cookie and the mailbox (which also gets reset links)
// must not be able to make the mailbox a second factor for a user with an
// authenticator app.
func TestEmailCodesNeedPassword(t *testing.T) {
	t.Parallel()
	ta, c, id, secret := totpUser(t)
	for _, pw := range noOrWrongPassword {
		before := len(ta.mail.messages("ada@example.com"))
		page := ta.do(t, c, "POST", "/account/mfa/email", pw)
		require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode, page.Body)
		require.Len(t, ta.mail.messages("ada@example.com"), before, "a confirmation code was mailed without the password: %s", ta.lastMail())
		ta.clock.Add(2 * time.Minute) // past the resend interval
	}
	st, err := ta.factors.Status(t.Context(), id)
	require.NoError(t, err)
	require.False(t, st.Email)
	ta.enableEmailCodes(t, c, secret) // with the password and the app's code
}

// TestEraseRemovesEmailFactor: deleting the account erases the emailed-code
// enrolment with the other factors (GDPR article 17), so no record of the
// user's second factors outlives the account; and a user without an
// authenticator app can delete the account at all (RemoveTOTP's
// ErrNotEnrolled used to fail the erasure with a 500).
func TestEraseRemovesEmailFactor(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	// Someone else is the administrator: the last one may not leave.
	ta.signUpAndIn(t, browser(t), "admin@example.com")
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	id := ta.userID(t, "ada@example.com")
	ta.enableEmailCodes(t, c, nil)
	// The emailed code is now this user's second factor, so deleting the
	// account re-proves it (ASVS 7.5.1) with a fresh emailed code.
	ta.clock.Add(2 * time.Minute) // past the resend interval
	require.NoError(t, ta.factors.SendLoginCode(t.Context(), id, "ada@example.com"))
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, ta.lastMail())
	res := ta.do(t, c, "POST", "/account/delete", url.Values{"password": {testPassword}, "code": {code[1]}})
	require.Equal(t, "/signin?deleted=1", res.Header.Get("Location"), res.Body)
	st, err := ta.factors.Status(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, mfa.Status{}, st, "a factor outlived the account")
}

// TestRecoveryCodesNeedPassword: a new set of recovery codes is a way past
// the second factor (and voids the owner's set), so it takes the password
// (ASVS 7.5.1): a stolen session cookie alone must not mint one.
func TestRecoveryCodesNeedPassword(t *testing.T) {
	t.Parallel()
	ta, c, id, secret := totpUser(t)
	before, err := ta.factors.Status(t.Context(), id)
	require.NoError(t, err)
	ta.requireRefusedWithoutPassword(t, c, "/account/recovery-codes", `id="recovery-codes"`)
	page := ta.do(t, c, "POST", "/account/recovery-codes", url.Values{"password": {testPassword}})
	require.Equal(t, http.StatusUnprocessableEntity, page.StatusCode, "the app's code is re-proved too (ASVS 7.5.1)")
	ta.clock.Add(time.Minute)
	page = ta.do(t, c, "POST", "/account/recovery-codes", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Equal(t, http.StatusOK, page.StatusCode, page.Body)
	require.Contains(t, page.Body, `id="recovery-codes"`)
	after, err := ta.factors.Status(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, before.RecoveryCodes, after.RecoveryCodes)
}

// TestTOTPSetupNeedsPassword: setting up an authenticator app takes the
// password (ASVS 7.5.1), so a stolen session cookie cannot enrol its
// holder's own app (TestEnrolTypoKeepsQR checks the pending key is not
// re-shown without it).
func TestTOTPSetupNeedsPassword(t *testing.T) {
	t.Parallel()
	ta, c, id := signedInUser(t)
	ta.requireRefusedWithoutPassword(t, c, "/account/mfa/enrol", `id="totp-secret"`)
	st, err := ta.factors.Status(t.Context(), id)
	require.NoError(t, err)
	require.False(t, st.TOTP || st.TOTPPending)

	ta.enrolTOTP(t, c) // with the password
}

// TestRemoveTOTPKeepingEmailCodesSaysSo: removing the authenticator app
// while emailed codes stay on must not tell the user (on the page and by
// mail) that the password alone now signs them in: sign-in still asks for
// an emailed code.
func TestRemoveTOTPKeepingEmailCodesSaysSo(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	secret := ta.enrolTOTP(t, c)
	ta.enableEmailCodes(t, c, secret)
	ta.clock.Add(time.Minute)
	page := ta.do(t, c, "POST", "/account/mfa/remove", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Equal(t, http.StatusOK, page.StatusCode, page.Body)
	require.NotContains(t, page.Body, "password alone", "emailed codes are still on")
	require.NotContains(t, ta.mail.messages("ada@example.com")[0].Subject, "turned off", "emailed codes are still on")

	ta.do(t, c, "POST", "/signout", url.Values{})
	ta.do(t, c, "GET", "/signin", nil)
	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"), "the second factor is still asked for")
}

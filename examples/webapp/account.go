package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
)

// sess is the request's session; routes using it run inside the session
// middleware, which guarantees one.
func sess(r *http.Request) session.Session {
	s, _ := session.FromContext(r.Context())
	return s
}

type accountData struct {
	Sessions  []session.Session
	CurrentID string
	MFA       mfa.Status
	TOTPOn    bool
	Idle      string // the idle timeout, for the page
	Activity  []historyEntry
}

func (a *App) accountPage(w http.ResponseWriter, r *http.Request) {
	a.renderAccount(w, r, http.StatusOK, view{})
}

func (a *App) renderAccount(w http.ResponseWriter, r *http.Request, status int, v view) {
	s := sess(r)
	list, err := a.sessions.List(r.Context(), s.UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	st, err := a.factors.Status(r.Context(), s.UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	activity, err := a.securityActivity(r.Context(), s.UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v.Title = "Account security"
	v.Data = accountData{Sessions: list, CurrentID: s.ID, MFA: st, TOTPOn: st.TOTP,
		Idle: humanDuration(a.sessions.Config().IdleTimeout), Activity: activity}
	if r.URL.Query().Has("ended") {
		v.Notice = "Session ended."
	}
	a.render(w, r, status, "account", v)
}

// changePassword goes through auth: the current password is checked under
// the brute-force throttle (ASVS 6.2.3), the policy applies to the new one,
// the user is notified, and the other sessions end (ASVS 7.4.3).
func (a *App) changePassword(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	err := a.auth.ChangePassword(r.Context(), auth.PasswordChange{
		UserID: s.UserID, Current: r.PostFormValue("current"), New: r.PostFormValue("new"),
		EndOtherSessions: true, CurrentSessionID: s.ID,
	}, a.client(r))
	var pe *password.PolicyError
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		a.renderAccount(w, r, http.StatusUnprocessableEntity, view{Error: "Your current password is not right."})
	case errors.As(err, &pe):
		a.renderAccount(w, r, http.StatusUnprocessableEntity, view{Error: "Please choose another password: " + describePolicyError(err)})
	case err != nil:
		a.internalError(w, r, err)
	default:
		a.renderAccount(w, r, http.StatusOK, view{Notice: "Password changed. Your other sessions were ended."})
	}
}

func (a *App) endSession(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	err := a.sessions.Revoke(r.Context(), s.UserID, r.PathValue("id"))
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?ended=1", http.StatusSeeOther)
}

func (a *App) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	if _, err := a.sessions.RevokeAll(r.Context(), s.UserID, s.ID); err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?ended=1", http.StatusSeeOther)
}

func (a *App) endAllSessions(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	if _, err := a.sessions.RevokeAll(r.Context(), s.UserID, ""); err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/signin?ended=1", http.StatusSeeOther)
}

// Second factors.

type mfaData struct {
	Status   mfa.Status
	TOTPOn   bool
	QR       template.URL // data: URL of the QR code PNG (html/template would refuse a plain string)
	Secret   string       // for typing in by hand
	Recovery []string
	// Confirming: a set-up is pending; ask for the app's code again
	// without showing the key (that takes the password, mfaEnrol).
	Confirming bool
	// EmailCodeSent: a code to turn emailed codes on was just mailed.
	EmailCodeSent bool
}

// RecoveryFile is the recovery codes as a text file, for the page's
// download link (works without JavaScript).
func (d mfaData) RecoveryFile() template.URL {
	text := "Bulwark demo recovery codes. Each signs you in once.\n\n" + strings.Join(d.Recovery, "\n") + "\n"
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text)) //nolint:gosec // our own text, escaped
}

func (a *App) mfaPage(w http.ResponseWriter, r *http.Request) {
	a.renderMFA(w, r, http.StatusOK, view{}, mfaData{})
}

func (a *App) renderMFA(w http.ResponseWriter, r *http.Request, status int, v view, d mfaData) {
	st, err := a.factors.Status(r.Context(), sess(r).UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	d.Status, d.TOTPOn = st, st.TOTP
	v.Title, v.Data = "Two-factor authentication", d
	a.render(w, r, status, "mfa", v)
}

// mfaEnrol starts a TOTP enrolment and shows the QR code, after the
// password is confirmed (ASVS 7.5.1): otherwise a stolen session cookie
// could set up its holder's own app, or read the key of the owner's
// pending set-up. The secret is kept only sealed by the keyring; while the
// enrolment is pending (10 minutes) mfa shows the same one again.
func (a *App) mfaEnrol(w http.ResponseWriter, r *http.Request) {
	if !a.reauthMFA(w, r) {
		return
	}
	ctx := r.Context()
	u, err := a.db.userByID(ctx, sess(r).UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	enr, err := a.factors.EnrollTOTP(ctx, u.ID, u.Username)
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		a.renderMFA(w, r, http.StatusConflict, view{Error: "An authenticator app is already set up."}, mfaData{})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{}, mfaData{
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(enr.QRCodePNG)), //nolint:gosec // our own PNG, base64
		Secret: enr.Secret,
	})
}

// mfaConfirm activates the factor with a first code, then hands out
// recovery codes, and ends the user's other sessions (ASVS 7.4.3).
func (a *App) mfaConfirm(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	err := a.factors.ConfirmTOTP(ctx, s.UserID, strings.TrimSpace(r.PostFormValue("code")))
	var locked *mfa.LockedError
	switch {
	case errors.As(err, &locked):
		a.renderMFA(w, r, http.StatusTooManyRequests, view{Error: fmt.Sprintf(
			"Too many wrong codes: try again after %s UTC. The QR code you scanned stays valid until the set-up expires.",
			locked.Until.UTC().Format("15:04"))}, mfaData{})
		return
	case errors.Is(err, mfa.ErrNotEnrolled):
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "The set-up expired. Start again and scan the new QR code."}, mfaData{})
		return
	case err != nil && isCodeError(err):
		// The pending secret is kept, so the app already scanned stays
		// good; the key itself is shown again only after the password.
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "That code did not match. Enter the code your app shows now; the QR code you scanned stays valid."},
			mfaData{Confirming: true})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	codes, err := a.factors.GenerateRecoveryCodes(ctx, s.UserID)
	if err == nil {
		_, err = a.sessions.RevokeAll(ctx, s.UserID, s.ID)
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if err := a.auth.MFAChanged(ctx, s.UserID, true, a.client(r)); err != nil { // audit + notification
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Notice: "Your authenticator app is set up."}, mfaData{Recovery: codes})
}

// mfaRemove turns the second factor off after the password is confirmed
// (ASVS 7.5.1: re-authenticate before changing authentication factors).
func (a *App) mfaRemove(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	if !a.reauthMFA(w, r) {
		return
	}
	if err := a.factors.Remove(ctx, s.UserID, mfa.FactorTOTP); err != nil && !errors.Is(err, mfa.ErrNotFound) {
		a.internalError(w, r, err)
		return
	}
	if err := a.factors.Remove(ctx, s.UserID, mfa.FactorRecovery); err != nil && !errors.Is(err, mfa.ErrNotFound) {
		a.internalError(w, r, err)
		return
	}
	if err := a.auth.MFAChanged(ctx, s.UserID, false, a.client(r)); err != nil {
		a.internalError(w, r, err)
		return
	}
	v := view{Warning: "Two-factor authentication is off: your password alone now signs you in."}
	if st, err := a.factors.Status(ctx, s.UserID); err != nil {
		a.internalError(w, r, err)
		return
	} else if st.Email {
		v = view{Notice: "Your authenticator app and its recovery codes are removed. Emailed codes still protect your sign-in."}
	}
	a.renderMFA(w, r, http.StatusOK, v, mfaData{})
}

// recoveryCodes replaces the recovery codes: the old ones die at once, so
// it needs the password again (ASVS 7.5.1).
func (a *App) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	if !a.reauthMFA(w, r) {
		return
	}
	codes, err := a.factors.GenerateRecoveryCodes(r.Context(), sess(r).UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Warning: "New recovery codes: the old ones no longer work."}, mfaData{Recovery: codes})
}

// Emailed codes are a second factor only for users who turn them on here
// (mfa records the choice; bulwark.MFAVerifier reads it): a user with an
// authenticator app is not offered the mailbox, which also receives
// reset links, as a way round it.

// mfaEmailStart mails a code that proves the user reads the mailbox,
// after the password is confirmed (ASVS 7.5.1): turning emailed codes on
// adds a way past the second factor, so a stolen session cookie and the
// mailbox (which also gets reset links) must not be enough to do it.
func (a *App) mfaEmailStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !a.reauthMFA(w, r) {
		return
	}
	u, err := a.db.userByID(ctx, sess(r).UserID)
	if err == nil {
		err = a.factors.StartEmailFactor(ctx, u.ID, u.Email)
	}
	switch {
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		a.renderMFA(w, r, http.StatusConflict, view{Error: "Emailed codes are already on."}, mfaData{})
	case errors.Is(err, mfa.ErrThrottled):
		a.renderMFA(w, r, http.StatusTooManyRequests, view{Error: codeThrottledMessage}, mfaData{EmailCodeSent: true})
	case err != nil:
		a.internalError(w, r, err)
	default:
		a.renderMFA(w, r, http.StatusOK, view{Notice: a.mailNotice("We sent a code to your email address", readerSelf)}, mfaData{EmailCodeSent: true})
	}
}

// mfaEmailConfirm turns emailed codes on with the mailed code.
func (a *App) mfaEmailConfirm(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	err := a.factors.ConfirmEmailFactor(ctx, s.UserID, strings.TrimSpace(r.PostFormValue("code")))
	if err != nil && isCodeError(err) {
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "That code did not match. Enter the code from the email, or ask for a new one."}, mfaData{EmailCodeSent: true})
		return
	}
	if err == nil {
		err = a.auth.MFAChanged(ctx, s.UserID, true, a.client(r)) // audit + notification
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Notice: "Emailed codes are on: you can sign in with a code we email you."}, mfaData{})
}

// mfaEmailRemove turns emailed codes off after the password is confirmed
// (ASVS 7.5.1).
func (a *App) mfaEmailRemove(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	if !a.reauthMFA(w, r) {
		return
	}
	err := a.factors.Remove(ctx, s.UserID, mfa.FactorEmail)
	if errors.Is(err, mfa.ErrNotEnrolled) {
		err = nil
	} else if err == nil {
		err = a.auth.MFAChanged(ctx, s.UserID, false, a.client(r))
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Notice: "Emailed codes are off."}, mfaData{})
}

// reauthMFA checks the password (and, for a user with a second factor, a
// code) typed to change a factor (ASVS 7.5.1) and reports whether to go on;
// otherwise it has answered.
func (a *App) reauthMFA(w http.ResponseWriter, r *http.Request) bool {
	_, err := a.auth.Reauthenticate(r.Context(), reauth(r, sess(r).UserID), a.client(r))
	switch {
	case err != nil && reauthRefused(err):
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: reauthMessage}, mfaData{})
	case err != nil:
		a.internalError(w, r, err)
	}
	return err == nil
}

// reauth is the re-authentication a sensitive form posts: the password and,
// for a user with a second factor, a code (ASVS 7.5.1).
func reauth(r *http.Request, userID string) auth.Reauth {
	return auth.Reauth{UserID: userID, Password: r.PostFormValue("password"), Code: r.PostFormValue("code")}
}

// reauthRefused reports whether err is a refused re-authentication rather
// than a failure.
func reauthRefused(err error) bool {
	return errors.Is(err, auth.ErrInvalidCredentials) || errors.Is(err, auth.ErrCodeRequired) || errors.Is(err, auth.ErrInvalidCode)
}

const reauthMessage = "That password is not right, or the code (from your authenticator app or email) is missing or wrong."

// reauthPages are the pages with a re-authentication form, by the name the
// "Email me a code" button posts, and where it returns to.
var reauthPages = map[string]string{"mfa": "/account/mfa", "export": "/account/export", "delete": "/account/delete"}

// reauthEmailCode mails a sign-in code to a user with emailed codes on, for
// the code field of a re-authentication form: without it a user whose only
// second factor is emailed codes could not re-authenticate at all. mfa
// throttles it as it throttles the sign-in's resend, and refuses users who
// did not turn emailed codes on. It returns to the form's page, which says
// what happened (reauthMailedNotice).
func (a *App) reauthEmailCode(w http.ResponseWriter, r *http.Request) {
	next, ok := reauthPages[r.PostFormValue("next")]
	if !ok {
		http.Error(w, "unknown page", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	u, err := a.db.userByID(ctx, sess(r).UserID)
	if err == nil {
		err = a.factors.SendLoginCode(ctx, u.ID, u.Email)
	}
	mailed := "1"
	switch {
	case errors.Is(err, mfa.ErrThrottled):
		mailed = "wait"
	case errors.Is(err, mfa.ErrNotEnrolled):
		mailed = "off"
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, next+"?mailed="+mailed, http.StatusSeeOther)
}

// reauthMailedNotice is what a re-authentication page says after
// reauthEmailCode: a notice or an error, or nothing for an unknown value.
func (a *App) reauthMailedNotice(mailed string) (notice, problem string) {
	switch mailed {
	case "1":
		return a.mailNotice("We sent a code to your email address: enter it with your password", readerSelf), ""
	case "wait":
		return "", codeThrottledMessage
	case "off":
		return "", emailCodesOffMessage
	}
	return "", ""
}

// What the pages that mail a code say when mfa refuses to send one.
const (
	codeThrottledMessage = "A code was sent a moment ago. Wait a minute before asking again."
	emailCodesOffMessage = "Emailed codes are not turned on for this account. Use your authenticator app or a recovery code."
)

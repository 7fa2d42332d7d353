package main

import (
	"encoding/base64"
	"errors"
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
	v.Data = accountData{Sessions: list, CurrentID: s.ID, MFA: st, TOTPOn: st.TOTP == mfa.TOTPActive,
		Idle: humanDuration(a.sessions.IdleTimeout()), Activity: activity}
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
	if _, err := a.sessions.RevokeOthers(r.Context(), s.UserID, s.ID); err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?ended=1", http.StatusSeeOther)
}

func (a *App) endAllSessions(w http.ResponseWriter, r *http.Request) {
	s := sess(r)
	if _, err := a.sessions.RevokeAll(r.Context(), s.UserID); err != nil {
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
	d.Status, d.TOTPOn = st, st.TOTP == mfa.TOTPActive
	v.Title, v.Data = "Two-factor authentication", d
	a.render(w, r, status, "mfa", v)
}

// mfaEnrol starts a TOTP enrolment and shows the QR code. The secret is
// shown once and kept only sealed by the keyring.
// Adding a factor needs the password again (ASVS 7.5.1), as removing one
// does: a borrowed session alone must not bind the attacker's phone.
func (a *App) mfaEnrol(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !a.passwordConfirmed(w, r) {
		return
	}
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
	if err != nil && isCodeError(err) {
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "That code did not match. Start again and enter the code your app shows."}, mfaData{})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	codes, err := a.factors.GenerateRecoveryCodes(ctx, s.UserID)
	if err == nil {
		_, err = a.sessions.RevokeOthers(ctx, s.UserID, s.ID)
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
	if _, err := a.auth.Reauthenticate(ctx, s.UserID, r.PostFormValue("password"), a.client(r)); err != nil {
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			a.internalError(w, r, err)
			return
		}
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "That password is not right."}, mfaData{})
		return
	}
	if err := a.factors.RemoveTOTP(ctx, s.UserID); err != nil && !errors.Is(err, mfa.ErrNotFound) {
		a.internalError(w, r, err)
		return
	}
	if err := a.factors.RemoveRecoveryCodes(ctx, s.UserID); err != nil && !errors.Is(err, mfa.ErrNotFound) {
		a.internalError(w, r, err)
		return
	}
	if err := a.auth.MFAChanged(ctx, s.UserID, false, a.client(r)); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Warning: "Two-factor authentication is off: your password alone now signs you in."}, mfaData{})
}

// recoveryCodes replaces the recovery codes: the old ones die at once, so
// it needs the password again (ASVS 7.5.1).
func (a *App) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	if !a.passwordConfirmed(w, r) {
		return
	}
	codes, err := a.factors.GenerateRecoveryCodes(r.Context(), sess(r).UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderMFA(w, r, http.StatusOK, view{Warning: "New recovery codes: the old ones no longer work."}, mfaData{Recovery: codes})
}

// passwordConfirmed re-authenticates the user with the form's password
// through auth (under the sign-in throttle) before a change of factors. On
// a wrong password it shows the factors page with the error, on a failure
// a 500, and returns false.
func (a *App) passwordConfirmed(w http.ResponseWriter, r *http.Request) bool {
	_, err := a.auth.Reauthenticate(r.Context(), sess(r).UserID, r.PostFormValue("password"), a.client(r))
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		a.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "That password is not right."}, mfaData{})
		return false
	case err != nil:
		a.internalError(w, r, err)
		return false
	}
	return true
}

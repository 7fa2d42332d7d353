package main

// Adapters between package auth and the app. auth declares small
// interfaces (SessionIssuer, MFAVerifier, Auditor, CredentialStore,
// Notifier, ResetMailer); the bulwark package ships the adapters for
// Bulwark's own packages (bulwark.SessionIssuer, bulwark.MFAVerifier,
// bulwark.Auditor), and the app provides the users table, the notifier and
// the reset mailer.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/session"
)

// signInContext prepares a sign-in step on the request's browser and
// returns the context to run it in. The session starts through
// bulwark.SessionIssuer (session's Manager.Create) and afterLogin sets its
// cookie with session's own code (Manager.SetCookie: __Host-, Secure,
// HttpOnly, SameSite); nothing of the HTTP exchange travels in the
// context. The session this browser already carried is ended first, so a
// sign-in never keeps an old token alive (session fixation) and signing in
// again in the same browser is not refused by the single-session rule.
func (a *App) signInContext(r *http.Request) context.Context {
	if c, err := r.Cookie(a.sessions.Config().CookieName); err == nil {
		if err := a.sessions.Destroy(r.Context(), c.Value); err != nil && !errors.Is(err, session.ErrNotFound) {
			a.logError(r.Context(), err)
		}
	}
	return r.Context()
}

// credentials is auth's CredentialStore over the app's users table.
type credentials struct {
	db  db
	now func() time.Time
}

func (c credentials) FindUser(ctx context.Context, by auth.Lookup, value string) (auth.User, error) {
	var u User
	var err error
	switch by {
	case auth.ByID:
		u, err = c.db.userByID(ctx, value)
	default: // ByLogin accepts the username or the email address
		u, err = c.db.userByLogin(ctx, value)
	}
	if errors.Is(err, errNotFound) {
		return auth.User{}, auth.ErrNotFound
	}
	return auth.User{ID: u.ID, Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash}, err
}

func (c credentials) CreateUser(ctx context.Context, u auth.User) error {
	if _, err := c.db.userByLogin(ctx, u.Email); err == nil {
		return auth.ErrTaken
	}
	err := c.db.createUser(ctx, &User{ID: u.ID, Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash, CreatedAt: c.now()})
	if err != nil {
		// Lost a race on a unique column: say which kind of taken it was
		// by looking, as auth expects.
		for _, login := range []string{u.Email, u.Username} {
			if _, ferr := c.db.userByLogin(ctx, login); ferr == nil {
				return auth.ErrTaken
			}
		}
	}
	return err
}

func (c credentials) SetPasswordHash(ctx context.Context, userID, hash string) error {
	return c.db.setPasswordHash(ctx, userID, hash)
}

// notify renders auth's notifications as mail (auth.NotifierFunc).
func (a *App) notify(ctx context.Context, n auth.Notification) error {
	u, err := a.db.userByID(ctx, n.UserID)
	if err != nil {
		return err
	}
	var subject, body string
	switch n.Type {
	case auth.NotifyAccountCreated:
		subject, body = "Welcome to the Bulwark demo", fmt.Sprintf("Your account is ready. Your login name is %s.", n.Username)
	case auth.NotifyRegisterAttempt:
		subject, body = "Someone tried to sign up with your address", "If this was you: you already have an account; sign in, or reset your password."
	case auth.NotifyPasswordChanged:
		subject, body = "Your password was changed", "If this was not you, reset your password now."
	case auth.NotifyMFAEnabled:
		subject, body = "Two-factor authentication turned on", "A second factor now protects your account. If this was not you, reset your password now."
	case auth.NotifyMFADisabled:
		subject, body = "Two-factor authentication turned off", "If this was not you, reset your password now."
		// One factor of two removed: the other still guards sign-in.
		if st, err := a.factors.Status(ctx, n.UserID); err != nil {
			return err
		} else if st.TOTP || st.Email {
			subject, body = "A second factor was removed", "Your other second factor still protects your account. If this was not you, reset your password now."
		}
	case auth.NotifyNewDevice:
		subject, body = "New sign-in", fmt.Sprintf("A sign-in from %s (%s).", n.IP, device(n.UserAgent))
	case auth.NotifyLockout:
		subject = "Sign-in paused"
		if n.Until.IsZero() {
			body = "Several wrong passwords were tried on your account, so sign-in is paused until you reset your password (use \"Forgot your password?\")."
		} else {
			body = fmt.Sprintf("Several wrong passwords were tried on your account, so sign-in is paused until %s UTC (%s). Sign in after that; if you have forgotten your password, reset it.",
				n.Until.UTC().Format("15:04"), lockLength(n))
		}
	case auth.NotifyMFALocked:
		subject = "Your second factor is locked"
		body = fmt.Sprintf("Your password was entered at sign-in, followed by too many wrong codes, so %s locked until %s UTC (%s). "+
			"If this was you: wait until then, or sign in with a recovery code. If it was not you, someone knows your password: reset it now at %s/forgot.",
			factorPhrase(n.Factor), n.Until.UTC().Format("15:04"), lockLength(n), a.cfg.BaseURL)
	default:
		subject, body = "Account activity", string(n.Type)
	}
	a.mail.send(u.Email, subject, body)
	return nil
}

// lockLength is how long a lock in n lasts, to the minute.
func lockLength(n auth.Notification) string {
	d := n.Until.Sub(n.Time)
	if d >= 30*time.Second {
		d = d.Round(time.Minute)
	}
	return humanDuration(d.Round(time.Second))
}

// SendResetLink mails a password-reset link. The token travels in the
// URL fragment, which browsers never send to a server or in a Referer;
// the reset page's script moves it into the form.
func (a *App) SendResetLink(_ context.Context, l auth.ResetLink) error {
	by := "You asked"
	if l.ByAdmin {
		by = "An administrator asked"
	}
	a.mail.sendLink(l.Email, "Reset your password", fmt.Sprintf("%s to reset your password. Open the link below before %s. Your second factor is still required at sign-in.",
		by, l.ExpiresAt.UTC().Format("15:04 UTC")), a.cfg.BaseURL+"/reset#"+l.Token)
	return nil
}

// pendingUser is the account of the browser's pending sign-in, to mail it
// a code. Looking it up takes one of the pending state's attempts, so
// asking for codes is limited like guessing them.
func (a *App) pendingUser(r *http.Request) (string, bool) {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return "", false
	}
	h := sha256.Sum256([]byte(c.Value))
	p, err := a.authStore.AttemptPending(r.Context(), h[:], a.cfg.Now(), auth.DefaultMaxMFAAttempts)
	if err != nil {
		return "", false
	}
	return p.UserID, true
}

// isCodeError tells a refused code (shown to the user) from a system
// failure (which denies too, with a 500).
func isCodeError(err error) bool {
	for _, e := range []error{mfa.ErrInvalidCode, mfa.ErrReplay, mfa.ErrLocked, mfa.ErrNotEnrolled, mfa.ErrNoCode, mfa.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

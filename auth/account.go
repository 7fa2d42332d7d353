package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RequestPasswordReset starts a password reset for the account with this
// email address. It returns nil whether or not the address is known (ASVS
// 5.0 6.3.8): the answer to show is always "if the address is registered,
// a link is on its way". A known address gets a single-use token of 256
// bits, stored only as its SHA-256 and valid Config.ResetTTL, through
// Deps.Mailer. Both cases do the same store work (an unknown address
// writes a decoy token that nobody holds), so the response time does not
// tell them apart either, provided the Mailer enqueues. A client IP
// over Config.ResetLimit requests per Config.IPWindow gets
// [ErrRateLimited]; an address that already received ResetLimit requests
// in the window silently gets no more links. Only system failures are
// returned otherwise.
func (a *Authenticator) RequestPasswordReset(ctx context.Context, email string, c Client) error {
	if a.deps.Mailer == nil {
		return errors.New("auth: password reset needs Deps.Mailer")
	}
	now := a.now()
	if c.IP != "" {
		n, err := a.store.AddHits(ctx, ipKey("reset-ip", c.IP), now, a.cfg.IPWindow, 1)
		if err != nil {
			return fmt.Errorf("auth: rate limit: %w", err)
		}
		if n > a.cfg.ResetLimit {
			return ErrRateLimited
		}
	}
	u, found, err := a.findUser(ctx, ByEmail, email)
	if err != nil {
		return err
	}
	// Both branches below do the same store work, so that the response
	// time does not tell a known address from an unknown one: a per-address
	// counter (keyed by the address's hash, known or not) and one token
	// write (a decoy bound to no user for an unknown address).
	n, err := a.store.AddHits(ctx, ipKey("reset-addr", shortHash(strings.ToLower(strings.TrimSpace(email)))), now, a.cfg.IPWindow, 1)
	if err != nil {
		return fmt.Errorf("auth: rate limit: %w", err)
	}
	if !found {
		if err := a.decoyResetToken(ctx, now); err != nil {
			return err
		}
		return a.emit(ctx, Event{Type: EventResetRequested, Outcome: outcomeFailure, Reason: "unknown_email"}, c)
	}
	if n > a.cfg.ResetLimit {
		if err := a.decoyResetToken(ctx, now); err != nil {
			return err
		}
		return a.emit(ctx, Event{Type: EventResetRequested, Outcome: outcomeDenied, UserID: u.ID, Reason: "too_many"}, c)
	}
	return a.sendReset(ctx, u, "", c)
}

// AdminStartReset lets an administrator start a reset for userID: a link
// goes to the user's address, as for [Authenticator.RequestPasswordReset].
// The administrator never sets or sees the new password (ASVS 5.0 6.4.6).
// It returns [ErrNotFound] for an unknown user.
func (a *Authenticator) AdminStartReset(ctx context.Context, adminID, userID string, c Client) error {
	if a.deps.Mailer == nil {
		return errors.New("auth: password reset needs Deps.Mailer")
	}
	u, found, err := a.findUser(ctx, ByID, userID)
	if err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	return a.sendReset(ctx, u, adminID, c)
}

// decoyResetToken writes a token nobody holds, bound to no user, so that a
// request for an unknown address costs the same store write as a real one.
// It expires with the usual TTL; ResetPassword treats it as unknown.
func (a *Authenticator) decoyResetToken(ctx context.Context, now time.Time) error {
	_, h, err := newToken(a.cfg.Rand)
	if err != nil {
		return err
	}
	if err := a.store.CreateResetToken(ctx, ResetToken{Hash: h, CreatedAt: now, ExpiresAt: now.Add(a.cfg.ResetTTL)}); err != nil {
		return fmt.Errorf("auth: reset token: %w", err)
	}
	return nil
}

func (a *Authenticator) sendReset(ctx context.Context, u User, adminID string, c Client) error {
	tok, h, err := newToken(a.cfg.Rand)
	if err != nil {
		return err
	}
	now := a.now()
	t := ResetToken{Hash: h, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(a.cfg.ResetTTL)}
	if err := a.store.CreateResetToken(ctx, t); err != nil {
		return fmt.Errorf("auth: reset token: %w", err)
	}
	e := Event{Type: EventResetRequested, UserID: u.ID}
	if adminID != "" {
		e.Actor, e.Reason = adminID, "admin"
	}
	if err := a.emit(ctx, e, c); err != nil {
		return err
	}
	l := ResetLink{UserID: u.ID, Email: u.Email, Token: tok, ExpiresAt: t.ExpiresAt, ByAdmin: adminID != ""}
	if err := a.deps.Mailer.SendResetLink(ctx, l); err != nil {
		return fmt.Errorf("auth: send reset link: %w", err)
	}
	return nil
}

// ResetPassword sets a new password with a reset token. The new password is
// checked against the policy first (a rejected password leaves the token
// usable); then the token is consumed atomically, so it works once,
// ([ErrInvalidResetToken] for an unknown, used or expired token), every
// other reset token of the user is deleted, all the user's sessions end,
// the lockout counter is cleared, and the user is notified.
//
// No session is started: the user logs in afterwards with the new password
// and, if enrolled, the second factor, so a reset never bypasses MFA (ASVS
// 5.0 6.4.3). An error from a step after the new hash is stored (ending the
// sessions, the audit) is returned although the new password is in effect.
func (a *Authenticator) ResetPassword(ctx context.Context, token, newPassword string, c Client) error {
	h := hashToken(token)
	t, err := a.store.LookupResetToken(ctx, h, a.now())
	if errors.Is(err, ErrNotFound) {
		return a.resetInvalid(ctx, c)
	}
	if err != nil {
		return fmt.Errorf("auth: reset token: %w", err)
	}
	if t.UserID == "" { // a decoy
		return a.resetInvalid(ctx, c)
	}
	u, found, err := a.findUser(ctx, ByID, t.UserID)
	if err != nil {
		return err
	}
	if !found {
		return a.resetInvalid(ctx, c)
	}
	if err := a.deps.Policy.Check(ctx, newPassword, u.Username, u.Email); err != nil {
		return fmt.Errorf("auth: password policy: %w", err)
	}
	if _, err := a.store.ConsumeResetToken(ctx, h, a.now()); errors.Is(err, ErrNotFound) {
		return a.resetInvalid(ctx, c)
	} else if err != nil {
		return fmt.Errorf("auth: reset token: %w", err)
	}
	return a.setPassword(ctx, u, newPassword, "reset", "", true, c)
}

func (a *Authenticator) resetInvalid(ctx context.Context, c Client) error {
	if err := a.emit(ctx, Event{Type: EventResetInvalid, Outcome: outcomeFailure}, c); err != nil {
		return err
	}
	return ErrInvalidResetToken
}

// setPassword hashes and stores a new password, then ends sessions (all
// but keepSession when endSessions), deletes reset tokens, clears the
// lockout, notifies and audits. Once the hash is stored every later step is
// tried even if an earlier one failed, and the revocations come before the
// audit, so that a store or audit failure never leaves alive the sessions
// or reset tokens the change was meant to end (fail closed); the errors are
// returned, joined, although the password has changed.
func (a *Authenticator) setPassword(ctx context.Context, u User, pw, reason, keepSession string, endSessions bool, c Client) error {
	hash, err := a.deps.Hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("auth: hash: %w", err)
	}
	if err := a.deps.Users.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	var errs []error
	ended := -1
	if endSessions {
		if n, err := a.deps.Sessions.EndSessions(ctx, u.ID, keepSession); err != nil {
			errs = append(errs, fmt.Errorf("auth: end sessions: %w", err))
		} else {
			ended = n
		}
	}
	if err := a.store.DeleteResetTokens(ctx, u.ID); err != nil {
		errs = append(errs, fmt.Errorf("auth: reset tokens: %w", err))
	}
	if err := a.store.ResetCounter(ctx, accountKey(u, true, "")); err != nil {
		errs = append(errs, fmt.Errorf("auth: counter: %w", err))
	}
	a.notify(ctx, Notification{Type: NotifyPasswordChanged, UserID: u.ID}, c)
	if err := a.emit(ctx, Event{Type: EventPasswordSet, UserID: u.ID, Reason: reason}, c); err != nil {
		errs = append(errs, err)
	} else if ended >= 0 {
		if err := a.emit(ctx, Event{Type: EventSessionsEnded, UserID: u.ID, Reason: fmt.Sprint(ended)}, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PasswordChange is a signed-in user's request to change their password.
type PasswordChange struct {
	UserID  string
	Current string // required (ASVS 5.0 6.2.3)
	New     string
	// EndOtherSessions ends every session but CurrentSessionID (ASVS 5.0
	// 7.4.3: offer it); "change your password and end all sessions" after a
	// suspected leak.
	EndOtherSessions bool
	CurrentSessionID string
}

// ChangePassword changes a password after verifying the current one. A
// wrong current password counts towards the account's lockout and returns
// [ErrInvalidCredentials], as does any attempt while the account is locked
// (the password is not judged then). The new password must pass the
// policy.
func (a *Authenticator) ChangePassword(ctx context.Context, ch PasswordChange, c Client) error {
	u, err := a.verifyCurrent(ctx, ch.UserID, ch.Current, c)
	if err != nil {
		return err
	}
	if err := a.deps.Policy.Check(ctx, ch.New, u.Username, u.Email); err != nil {
		return fmt.Errorf("auth: password policy: %w", err)
	}
	return a.setPassword(ctx, u, ch.New, "change", ch.CurrentSessionID, ch.EndOtherSessions, c)
}

// verifyCurrent checks a signed-in user's password under the lockout and
// clears the failure count on success.
func (a *Authenticator) verifyCurrent(ctx context.Context, userID, password string, c Client) (User, error) {
	u, key, att, err := a.checkCurrent(ctx, userID, password, c)
	defer att.end()
	if err != nil {
		return User{}, err
	}
	if err := a.store.ResetCounter(ctx, key); err != nil {
		return User{}, fmt.Errorf("auth: counter: %w", err)
	}
	return u, nil
}

// checkCurrent checks a signed-in user's password under the lockout. On
// success the attempt is still counted as a failure: the caller clears the
// counter (key) once every factor it asks for is proved. The caller ends
// the attempt (att.end) in every case.
func (a *Authenticator) checkCurrent(ctx context.Context, userID, password string, c Client) (User, string, attempt, error) {
	u, found, err := a.findUser(ctx, ByID, userID)
	if err != nil {
		return User{}, "", attempt{}, err
	}
	if !found {
		return User{}, "", attempt{}, ErrInvalidCredentials
	}
	key := accountKey(u, true, "")
	now := a.now()
	att, err := a.reserveAttempt(ctx, key, true, now)
	if err != nil {
		return User{}, "", attempt{}, err
	}
	hash := u.PasswordHash
	if hash == "" {
		if hash, err = a.dummyHash(ctx); err != nil {
			return User{}, "", att, fmt.Errorf("auth: dummy hash: %w", err)
		}
	}
	if verr := a.deps.Hasher.Verify(ctx, password, hash); verr != nil || att.state.Locked || u.PasswordHash == "" {
		reason := "bad_password"
		if att.state.Locked {
			reason = "locked"
		}
		return User{}, "", att, a.failed(ctx, u.ID, att, reason, EventPasswordFailed, c)
	}
	return u, key, att, nil
}

// RequireRecentAuth returns nil if authTime (the session's last
// authentication, e.g. session's Session.AuthTime) is within the allowed
// age for action (Config.RecentAuthFor[action], else Config.RecentAuth) of
// now, and [ErrReauthRequired] otherwise, including for a zero authTime or
// one in the future. action is the host's name for what is guarded; call
// it before every sensitive action: at least changing the email address
// ("change_email"), changing the second factors ("change_mfa"), exporting
// personal data ("export") and deleting the account ("delete_account")
// (ASVS 5.0 7.5.1, 7.5.3). After [Authenticator.Reauthenticate] succeeds,
// record the returned time in the session (session's Rotate or StepUp).
func (a *Authenticator) RequireRecentAuth(authTime time.Time, action string) error {
	maxAge := a.cfg.RecentAuth
	if d, ok := a.cfg.RecentAuthFor[action]; ok && d > 0 {
		maxAge = d
	}
	now := a.now()
	if authTime.IsZero() || now.Sub(authTime) > maxAge || authTime.After(now.Add(time.Minute)) {
		return ErrReauthRequired
	}
	return nil
}

// Reauth is a signed-in user's proof for a sensitive action.
type Reauth struct {
	UserID   string
	Password string
	// Code is a second-factor code (TOTP, recovery code, ...), required
	// when the user has a second factor enrolled; ignored otherwise.
	Code string
}

// Reauthenticate proves a signed-in user's factors again before a
// sensitive action (ASVS 5.0 7.5.1): the password, under the same lockout
// as Login, and, when the user has a second factor enrolled ([MFAVerifier]),
// a second-factor code as well, so a session established with MFA is
// renewed with MFA. Failures return [ErrInvalidCredentials] (unknown user,
// wrong password, locked account), [ErrCodeRequired] (right password, no
// code for a user with a second factor; not counted, so the host can ask
// for the code and try again) or [ErrInvalidCode] (right password, wrong or
// replayed code; counted as a failed attempt, so codes cannot be guessed
// past the lockout). Only when every factor is proved is the failure count
// cleared.
//
// On success it returns what the renewed session records, as a completed
// login would: AuthTime, the new authentication time (for session's
// Rotate or StepUp), and Factors, the factors proved again ("password",
// then the second factor's name when the user has one), with the client's
// IP and user agent.
func (a *Authenticator) Reauthenticate(ctx context.Context, r Reauth, c Client) (SessionStart, error) {
	u, key, att, err := a.checkCurrent(ctx, r.UserID, r.Password, c)
	defer att.end()
	if err != nil {
		return SessionStart{}, err
	}
	factors := []string{factorPassword}
	enrolled := false
	if a.deps.MFA != nil {
		if enrolled, err = a.deps.MFA.Enrolled(ctx, u.ID); err != nil {
			return SessionStart{}, fmt.Errorf("auth: mfa status: %w", err)
		}
	}
	if enrolled {
		if r.Code == "" {
			// Not a guess: take the attempt's count back, but do not clear
			// the counter (a wrong code must not be washed out by a
			// request without one).
			p := a.cfg.Lockout.failureParams(a.now(), true)
			p.Op = FailureUndo
			if _, err := a.store.AddFailure(ctx, key, p); err != nil {
				return SessionStart{}, fmt.Errorf("auth: counter: %w", err)
			}
			return SessionStart{}, ErrCodeRequired
		}
		factor, verr := a.deps.MFA.VerifyMFA(ctx, u.ID, r.Code)
		if verr != nil {
			if err := a.failed(ctx, u.ID, att, "reauth_code", EventMFAFailed, c); !errors.Is(err, ErrInvalidCredentials) {
				return SessionStart{}, err
			}
			return SessionStart{}, ErrInvalidCode
		}
		factors = append(factors, factor)
	}
	if err := a.store.ResetCounter(ctx, key); err != nil {
		return SessionStart{}, fmt.Errorf("auth: counter: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventReauth, UserID: u.ID, Reason: strings.Join(factors, "+")}, c); err != nil {
		return SessionStart{}, err
	}
	return SessionStart{AuthTime: a.now(), Factors: factors, IP: c.IP, UserAgent: c.UserAgent}, nil
}

// MFAChanged audits and notifies a change of the user's second factors,
// made by the host through mfa (ASVS 5.0 6.3.7). Guard the change itself
// with [Authenticator.RequireRecentAuth] (action "change_mfa").
func (a *Authenticator) MFAChanged(ctx context.Context, userID string, enabled bool, c Client) error {
	reason, typ := "disabled", NotifyMFADisabled
	if enabled {
		reason, typ = "enabled", NotifyMFAEnabled
	}
	if err := a.emit(ctx, Event{Type: EventMFAChanged, UserID: userID, Reason: reason}, c); err != nil {
		return err
	}
	a.notify(ctx, Notification{Type: typ, UserID: userID}, c)
	return nil
}

// Unlock lets an administrator lift a lock on userID (temporary or
// permanent) and clear its failure counts.
func (a *Authenticator) Unlock(ctx context.Context, adminID, userID string, c Client) error {
	if err := a.store.ResetCounter(ctx, accountKey(User{ID: userID}, true, "")); err != nil {
		return fmt.Errorf("auth: counter: %w", err)
	}
	return a.emit(ctx, Event{Type: EventUnlock, UserID: userID, Actor: adminID}, c)
}

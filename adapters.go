package bulwark

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
)

// The adapters below connect auth's small interfaces to Bulwark's own
// packages. They lived in auth (auth.Sessions, auth.Factors, auth.AuditLog)
// until auth stopped importing the core packages; [New] uses them, and a
// host that wires auth by hand can too.

// password's types satisfy auth's interfaces as they are.
var (
	_ auth.Hasher        = (*password.Hasher)(nil)
	_ auth.PolicyChecker = password.Policy{}
)

// SessionIssuer adapts a session Manager to auth's SessionIssuer: it starts
// sessions with [session.Manager.Create], which issues a fresh token and
// applies the single-session rule, and ends them with Revoke or RevokeAll.
// The session records the login's factors, IP and user agent (for step-up
// checks and the "active sessions" list). By default (session's
// Config.ReplaceOld off) a login while another session is live is refused
// and audited as auth.login.failed with Reason "session_refused".
//
// The issuer works on the context alone; the cookie is written afterwards
// by the HTTP layer with [session.Manager.SetCookie], as [Bulwark.Handler]
// does, so no http.ResponseWriter travels in a context.
func SessionIssuer(m *session.Manager) auth.SessionIssuer { return sessionIssuer{m} }

type sessionIssuer struct{ m *session.Manager }

func (s sessionIssuer) StartSession(ctx context.Context, userID string, st auth.SessionStart) (auth.IssuedSession, error) {
	iss, err := s.m.Create(ctx, userID, session.Login{Factors: st.Factors, IP: st.IP, UserAgent: st.UserAgent})
	if err != nil {
		return auth.IssuedSession{}, err
	}
	return auth.IssuedSession{ID: iss.Session.ID, Token: iss.Token}, nil
}

func (s sessionIssuer) EndSession(ctx context.Context, userID, sessionID string) error {
	return s.m.Revoke(ctx, userID, sessionID)
}

func (s sessionIssuer) EndSessions(ctx context.Context, userID, exceptID string) (int, error) {
	return s.m.RevokeAll(ctx, userID, exceptID)
}

// MFAVerifier adapts an mfa Manager to auth's MFAVerifier. Which factors a
// user may sign in with comes from what that user enrolled in mfa, and
// nothing else: a confirmed TOTP, unused recovery codes, or emailed codes
// turned on with mfa's StartEmailFactor and ConfirmEmailFactor. A code in
// the recovery-code form is tried only as a recovery code; any other code
// as an emailed sign-in code (mfa's VerifyLoginCode, which refuses it for
// users who did not turn emailed codes on, and costs nothing when no code
// was sent) and then as TOTP. So a password reset, whose link went to the
// user's mailbox, never lets the mailbox stand in for an authenticator
// app. Every path is single use and attempt-limited inside mfa, so the
// pending-MFA state's own limit sits on top of mfa's per-factor locks. A
// locked factor is reported as an *auth.MFALockedError.
func MFAVerifier(m *mfa.Manager) auth.MFAVerifier { return factors{m: m} }

type factors struct{ m *mfa.Manager }

func (f factors) Enrolled(ctx context.Context, userID string) (bool, error) {
	st, err := f.m.Status(ctx, userID)
	if err != nil {
		return false, err
	}
	return st.TOTP || st.RecoveryCodes > 0 || st.Email, nil
}

func (f factors) VerifyMFA(ctx context.Context, userID, code string) (string, error) {
	if looksLikeRecoveryCode(code) {
		if _, err := f.m.UseRecoveryCode(ctx, userID, code); err != nil {
			return "", err
		}
		return "recovery", nil
	}
	// The emailed code first: with no live code it answers ErrNoCode (or
	// ErrNotEnrolled) without taking an attempt, so a TOTP code costs
	// nothing there, whereas trying TOTP first would spend one of the
	// app's attempts on every emailed sign-in (and lock the app after
	// MaxAttempts of them, since only a TOTP success resets its count).
	eerr := f.m.VerifyLoginCode(ctx, userID, code)
	if eerr == nil {
		return "email", nil
	}
	if !isCodeErr(eerr) {
		return "", eerr // a system failure denies
	}
	terr := f.m.VerifyTOTP(ctx, userID, code)
	switch {
	case terr == nil:
		return "totp", nil
	case errors.Is(eerr, mfa.ErrNotEnrolled):
		return "", lockedErr(terr)
	case errors.Is(terr, mfa.ErrNotEnrolled):
		return "", lockedErr(eerr)
	}
	return "", errors.Join(lockedErr(terr), lockedErr(eerr))
}

// isCodeErr tells mfa's answers about a code or factor from system
// failures.
func isCodeErr(err error) bool {
	for _, e := range []error{mfa.ErrNotEnrolled, mfa.ErrNoCode, mfa.ErrInvalidCode, mfa.ErrReplay, mfa.ErrLocked} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// lockedErr adds auth's *MFALockedError to an mfa error that reports a
// locked factor. mfa wraps the lock in ErrInvalidCode (or ErrReplay, for a
// replayed code that used the last attempt) when this very code locked
// it, and returns it bare when the factor was locked before.
func lockedErr(err error) error {
	var le *mfa.LockedError
	if !errors.As(err, &le) {
		return err
	}
	return errors.Join(&auth.MFALockedError{Factor: string(le.Factor), Until: le.Until, Triggered: errors.Is(err, mfa.ErrInvalidCode) || errors.Is(err, mfa.ErrReplay)}, err)
}

// looksLikeRecoveryCode tells recovery codes (25 symbols in dashed groups)
// from TOTP and emailed codes (6 to 8 digits) by length alone, so a typo in
// one kind never uses up an attempt of the other.
func looksLikeRecoveryCode(code string) bool { return len(code) > 12 }

// Auditor adapts an audit Log to auth's Auditor. Each auth event becomes an
// audit entry in the given tenant's chain, with the event type as its
// action (so audit's access report counts logins, failures and lockouts),
// the user as target, and the reason as a detail. Events never carry
// secrets. An append error fails the auth flow (fail closed).
func Auditor(l *audit.Log, tenant string) auth.Auditor { return auditor{l: l, tenant: tenant} }

type auditor struct {
	l      *audit.Log
	tenant string
}

func (a auditor) Audit(ctx context.Context, e auth.Event) error {
	_, err := a.l.Append(ctx, authEntry(a.tenant, e))
	return err
}

// authEntry is the audit entry of an auth event: the one place that reads
// auth's Event fields.
func authEntry(tenant string, e auth.Event) audit.Entry {
	ev := audit.Entry{
		Tenant:     tenant,
		Actor:      e.Actor,
		Action:     string(e.Type),
		TargetType: "user",
		TargetID:   e.UserID,
		Outcome:    audit.Outcome(e.Outcome),
		IP:         e.IP,
		UserAgent:  e.UserAgent,
	}
	if e.Reason != "" {
		ev.Details = map[string]string{"reason": e.Reason}
	}
	return ev
}

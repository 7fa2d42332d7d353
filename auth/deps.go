package auth

import (
	"context"
	"time"
)

// The interfaces below are what the [Authenticator] needs from the other
// Bulwark packages and from the host. Each is small so that the real
// implementation satisfies it directly or through a few lines of adapter.

// Hasher hashes and verifies passwords. password's *Hasher satisfies it
// directly.
type Hasher interface {
	// Hash returns an encoded hash (for example a PHC string) of password.
	Hash(ctx context.Context, password string) (string, error)
	// Verify returns nil if password matches encoded. Any error counts as a
	// failed attempt.
	Verify(ctx context.Context, password, encoded string) error
	// NeedsRehash reports whether encoded should be replaced by a fresh
	// Hash after a successful Verify.
	NeedsRehash(encoded string) bool
}

// PolicyChecker checks a new password. password's Policy satisfies it
// directly. The error (for example a *password.PolicyError listing the
// violated rules) is returned to the caller as is, wrapped.
type PolicyChecker interface {
	Check(ctx context.Context, password string, contextWords ...string) error
}

// MFAVerifier is the second factor. bulwark.MFAVerifier, the adapter over mfa's
// *Manager, maps Enrolled to Status (an active TOTP, unused recovery codes
// or emailed codes the user turned on) and VerifyMFA to UseRecoveryCode,
// or VerifyTOTP then VerifyLoginCode.
type MFAVerifier interface {
	// Enrolled reports whether userID has a second factor.
	Enrolled(ctx context.Context, userID string) (bool, error)
	// VerifyMFA checks code for userID, at most once per code (no replay).
	// It returns the factor's name ("totp", "recovery", ...) or an error;
	// any error counts as a wrong code. An error that holds a
	// [*MFALockedError] (found with errors.As) reports a locked factor.
	VerifyMFA(ctx context.Context, userID, code string) (factor string, err error)
}

// SessionStart describes a completed login for [SessionIssuer], and a
// completed [Authenticator.Reauthenticate].
type SessionStart struct {
	Factors   []string // "password", then the second factor's name, if any
	AuthTime  time.Time
	IP        string
	UserAgent string
}

// IssuedSession is what [SessionIssuer.StartSession] hands back; the token
// goes to the client, nowhere else.
type IssuedSession struct {
	ID    string // safe to show and log
	Token string // secret
}

// SessionIssuer starts and ends sessions. An adapter over session's
// *Manager maps StartSession to Create (which issues a fresh token and
// applies the single-session rule), EndSession to Revoke, and EndSessions
// to RevokeAll(ctx, userID, exceptID).
type SessionIssuer interface {
	// StartSession starts a session with a fresh token. An error (for
	// example session's limit without Config.ReplaceOld) refuses the login.
	StartSession(ctx context.Context, userID string, s SessionStart) (IssuedSession, error)
	// EndSession ends one session; auth calls it when a session it just
	// started cannot be audited.
	EndSession(ctx context.Context, userID, sessionID string) error
	// EndSessions ends every session of userID except exceptID ("" for
	// none) and reports how many it ended.
	EndSessions(ctx context.Context, userID, exceptID string) (int, error)
}

// Auditor records an [Event] in the audit log. An adapter over audit's
// *Log maps it to Append with Action = Type, Actor, TargetType "user",
// TargetID = UserID, Outcome, IP, UserAgent and Details {"reason": Reason}.
// An error fails the flow (fail closed: an unaudited login is refused).
type Auditor interface {
	Audit(ctx context.Context, e Event) error
}

// Lookup says which field [CredentialStore.FindUser] searches.
type Lookup int

// Lookups.
const (
	ByLogin Lookup = iota + 1 // the login name typed at sign-in (username, or email if the host allows)
	ByEmail                   // the email address
	ByID                      // the user id
)

// User is the part of the host's user record auth reads.
type User struct {
	ID           string
	Username     string
	Email        string
	PasswordHash string
	// MFARequired makes a second factor mandatory for this user, whatever
	// [Config.RequireMFA] says (for example for administrators).
	MFARequired bool
}

// CredentialStore is the host's users table.
type CredentialStore interface {
	// FindUser returns the user whose field by equals value, or
	// [ErrNotFound].
	FindUser(ctx context.Context, by Lookup, value string) (User, error)
	// CreateUser inserts u. It returns [ErrTaken] if the email (or
	// username) already exists; the host's unique constraints decide.
	CreateUser(ctx context.Context, u User) error
	// SetPasswordHash replaces userID's password hash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
}

// ResetLink is the only message auth sends that carries a secret: the
// password-reset token, to be put in a link to the user's email address.
type ResetLink struct {
	UserID    string
	Email     string
	Token     string // secret: send it only to Email, never log it
	ExpiresAt time.Time
	ByAdmin   bool // an administrator started the reset
}

// ResetMailer delivers reset links. It should enqueue rather than send
// inline, so that a request for a known address takes as long as one for an
// unknown address.
type ResetMailer interface {
	SendResetLink(ctx context.Context, l ResetLink) error
}

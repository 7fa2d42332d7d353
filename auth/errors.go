package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Flow methods wrap store and dependency failures with %w;
// callers compare with [errors.Is]. No error carries a password, a token or
// a code.
var (
	// ErrInvalidCredentials is returned by [Authenticator.Login],
	// [Authenticator.Reauthenticate] and [Authenticator.ChangePassword] for an
	// unknown login, a wrong password and a locked account alike, so that the
	// answer reveals neither whether the account exists nor whether a
	// password tried during a lockout was right.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")

	// ErrRateLimited is returned by [Authenticator.Login] and
	// [Authenticator.RequestPasswordReset] when the client's IP address has
	// used up its allowance. It depends only on the IP, never on the account.
	ErrRateLimited = errors.New("auth: too many attempts from this address")

	// ErrInvalidPending is returned by [Authenticator.CompleteMFA] when the
	// pending-MFA token is unknown, expired, used up, or presented by another
	// browser (binding mismatch).
	ErrInvalidPending = errors.New("auth: invalid or expired login attempt")

	// ErrInvalidCode is returned by [Authenticator.CompleteMFA] when the
	// second-factor code is wrong or replayed; the pending state survives
	// until its attempts run out. The same error may also match
	// [ErrMFAAttemptsExhausted] and hold a [*MFALockedError]: check those
	// first to tell the user what happened. [Authenticator.Reauthenticate] returns it
	// for a wrong code after a right password.
	ErrInvalidCode = errors.New("auth: invalid verification code")

	// ErrMFAAttemptsExhausted is returned by [Authenticator.CompleteMFA],
	// together with [ErrInvalidCode], for the wrong code that used up the
	// pending state's Config.MaxMFAAttempts: the state is gone and the user
	// must sign in again with the password. (Later tries with the same
	// token get [ErrInvalidPending].)
	ErrMFAAttemptsExhausted = errors.New("auth: too many wrong codes; sign in again")

	// ErrCodeRequired is returned by [Authenticator.Reauthenticate] when the
	// password is right but the user has a second factor and no code was
	// given: ask for the code and call again with both.
	ErrCodeRequired = errors.New("auth: second-factor code required")

	// ErrInvalidResetToken is returned by [Authenticator.ResetPassword] for a
	// reset token that is unknown, expired or already used.
	ErrInvalidResetToken = errors.New("auth: invalid or expired reset token")

	// ErrReauthRequired is returned by [Authenticator.RequireRecentAuth] when
	// the session's last authentication is older than
	// [Config.RecentAuth].
	ErrReauthRequired = errors.New("auth: recent authentication required")

	// ErrBindingRequired is returned by [Authenticator.Login] and
	// [Authenticator.CompleteMFA] when [Client.Binding] is empty: a pending
	// MFA state must be bound to the browser that started it.
	ErrBindingRequired = errors.New("auth: client binding required")

	// ErrInvalidName is returned by [Authenticator.Register] and
	// [GenerateUsername] when a name is empty or too long.
	ErrInvalidName = errors.New("auth: invalid name")

	// ErrUsernameExhausted is returned by [GenerateUsername] when no free
	// number was found for a base name after every attempt.
	ErrUsernameExhausted = errors.New("auth: no free username number")

	// ErrNotFound is returned by stores for a missing or expired record, and
	// by a [CredentialStore] for an unknown user. Any other store error is a
	// system failure, and the flows deny.
	ErrNotFound = errors.New("auth: not found")

	// ErrTaken is returned by [ClaimStore.Claim] when the (kind, key) pair is
	// already claimed.
	ErrTaken = errors.New("auth: already taken")
)

// MFALockedError reports a second factor locked after too many wrong
// codes, and until when. [Authenticator.CompleteMFA] returns it (also
// matching [ErrInvalidCode]) and [MFAVerifier] implementations return it
// for a locked factor; bulwark.MFAVerifier translates mfa's *LockedError.
// Find it with errors.As. It describes the state after the password
// step only, so it reveals nothing about a password.
type MFALockedError struct {
	Factor string    // the locked factor: "totp", "email", ...
	Until  time.Time // when the lock ends
	// Triggered is true when this attempt's wrong code locked the factor,
	// false when it was already locked (the code was then not checked).
	Triggered bool
}

func (e *MFALockedError) Error() string {
	return fmt.Sprintf("auth: second factor %s locked until %s", e.Factor, e.Until.UTC().Format(time.RFC3339))
}

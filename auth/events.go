package auth

import (
	"context"
	"time"
)

// EventType names an audited step. The names follow audit's well-known
// actions where one exists (auth.login, auth.login.failed, auth.lockout,
// auth.mfa.failed, auth.password.set).
type EventType string

// Events, passed to [Config.Hook] and [Auditor].
const (
	EventRegistered     EventType = "auth.register"            // an account was created (Outcome failure: the email was taken)
	EventLogin          EventType = "auth.login"               // a login completed and a session started
	EventLoginFailed    EventType = "auth.login.failed"        // a wrong password, unknown login or locked account (see Reason)
	EventMFAPending     EventType = "auth.login.mfa_pending"   // password right, second factor pending
	EventRateLimited    EventType = "auth.login.rate_limited"  // the client IP used up its allowance
	EventLockout        EventType = "auth.lockout"             // a login was locked (Reason "temporary" or "permanent"; no UserID for an unknown login)
	EventUnlock         EventType = "auth.unlock"              // an administrator lifted a lock
	EventMFAFailed      EventType = "auth.mfa.failed"          // a wrong, replayed or misbound second-factor attempt
	EventMFALockout     EventType = "auth.mfa.lockout"         // a wrong code locked the second factor (Reason: the factor)
	EventMFAChanged     EventType = "auth.mfa.changed"         // a factor was enabled (Reason "enabled") or disabled
	EventPasswordSet    EventType = "auth.password.set"        // a password was changed (Reason "change") or reset ("reset")
	EventPasswordFailed EventType = "auth.password.failed"     // a password change or re-authentication with a wrong current password
	EventResetRequested EventType = "auth.reset.requested"     // a reset link was asked for (Outcome failure: unknown address)
	EventResetInvalid   EventType = "auth.reset.invalid"       // an unknown, used or expired reset token was presented
	EventReauth         EventType = "auth.reauth"              // the user re-authenticated for a sensitive action
	EventSessionsEnded  EventType = "auth.sessions.ended"      // sessions were ended after a password change or reset
	EventNewDevice      EventType = "auth.login.new_device"    // a login from a device or IP not seen before for this user
	EventNotifyFailed   EventType = "auth.notification.failed" // the Notifier returned an error
)

// Outcomes of an [Event]: the values of audit's Outcome, so that the
// composition converts them as they are.
const (
	outcomeSuccess = "success"
	outcomeFailure = "failure"
	outcomeDenied  = "denied"
)

// Event is one step of a flow, for the audit log ([Auditor]) and
// [Config.Hook]. It never carries a password, token, code, hash or the
// login name typed for an unknown account (people type passwords into
// login fields).
type Event struct {
	Type EventType
	// Outcome says how the step ended, as one of audit's outcome values:
	// "success", "failure" (a wrong password, an unknown login, a taken
	// address) or "denied" (refused by a rule: a lockout, a rate limit, a
	// refused session). It is never empty.
	Outcome   string
	Time      time.Time // from Config.Now
	UserID    string    // "" when no account matched
	Actor     string    // who acted: the user, or the administrator for admin steps
	IP        string
	UserAgent string
	// Reason refines failures ("unknown_user", "bad_password", "locked",
	// "binding", "expired", "session_refused", ...) and a few successes:
	// the factors used for auth.login ("password+totp", ASVS 5.0 16.3.1),
	// "change" or "reset" for auth.password.set.
	Reason string
}

// NotificationType is a kind of account-activity message.
type NotificationType string

// Notifications sent through [Notifier] (ASVS 5.0 6.3.7; 6.3.5 for new
// devices and lockouts).
const (
	NotifyAccountCreated  NotificationType = "account_created"
	NotifyRegisterAttempt NotificationType = "register_attempt" // someone tried to sign up with an existing address
	NotifyPasswordChanged NotificationType = "password_changed"
	NotifyMFAEnabled      NotificationType = "mfa_enabled"
	NotifyMFADisabled     NotificationType = "mfa_disabled"
	NotifyNewDevice       NotificationType = "new_device"
	NotifyLockout         NotificationType = "lockout"    // Until says when the lock ends (zero: until a reset or an unlock)
	NotifyMFALocked       NotificationType = "mfa_locked" // Factor and Until say which factor is locked until when
)

// Notification is a message to a user about their account. It carries no
// secret; the host renders it and sends it to the user's address.
type Notification struct {
	Type      NotificationType
	UserID    string
	Username  string // for account_created, so the user learns their login
	Time      time.Time
	IP        string
	UserAgent string
	// Until, for lockout and mfa_locked: when the lock ends; zero for a
	// permanent lockout (until a password reset or an unlock).
	Until time.Time
	// Factor, for mfa_locked: the locked factor ("totp", "email", ...).
	Factor string
}

// Notifier delivers [Notification]s. Implementations should enqueue and
// return quickly; an error is reported as [EventNotifyFailed] and never
// undoes the step that caused the notification.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to [Notifier].
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// Defaults of [Config].
const (
	// DefaultPendingTTL is how long the state between a correct password and
	// the second factor lasts (the 5 minutes; ASVS 5.0 6.5.5 allows
	// out-of-band codes up to 10).
	DefaultPendingTTL = 5 * time.Minute
	// DefaultMaxMFAAttempts second-factor attempts are allowed per pending
	// state; then the password step must be repeated (ASVS 5.0 6.6.3).
	DefaultMaxMFAAttempts = 5
	// DefaultResetTTL is the validity of a password-reset token.
	DefaultResetTTL = 30 * time.Minute
	// DefaultIPLimit failed logins per IP address per DefaultIPWindow: far
	// above what one office behind NAT produces, far below what credential
	// stuffing needs (ASVS 5.0 6.1.1, 6.3.1).
	DefaultIPLimit  = 100
	DefaultIPWindow = 15 * time.Minute
	// DefaultResetLimit reset requests per IP address, and reset emails per
	// account, per DefaultIPWindow, so the reset form cannot be used to
	// flood an inbox.
	DefaultResetLimit = 5
	// DefaultBurstWait bounds how long a login waits for concurrent
	// attempts on the same account before it is refused (see
	// [Config.BurstWait]); longer than any request timeout, so that in
	// practice the request's context bounds it.
	DefaultBurstWait = time.Minute
	// DefaultRecentAuth is how old an authentication may be for a sensitive
	// action (ASVS 5.0 7.5.1, 7.5.3).
	DefaultRecentAuth = 10 * time.Minute
)

// Config configures an [Authenticator]. Credentials, Hasher, Policy and
// Sessions are required; every other zero field means its default.
type Config struct {
	Credentials CredentialStore // the host's users table (required)
	Hasher      Hasher          // required
	Policy      PolicyChecker   // required
	Sessions    SessionIssuer   // required
	MFA         MFAVerifier     // nil: no second factor (then RequireMFA must be false)
	Auditor     Auditor         // nil: events go to OnEvent only
	Notifier    Notifier        // nil: no notifications
	ResetMailer ResetMailer     // nil: password reset disabled (RequestPasswordReset fails)

	// RequireMFA makes a second factor mandatory for everyone (ASVS 5.0
	// 6.3.3); users without one get [StepEnrollMFA].
	RequireMFA bool

	Lockout        LockoutPolicy
	IPLimit        int           // failed logins per IP (IPv6: per /64) per IPWindow; default DefaultIPLimit
	IPWindow       time.Duration // default DefaultIPWindow
	ResetLimit     int           // default DefaultResetLimit
	PendingTTL     time.Duration // default DefaultPendingTTL
	MaxMFAAttempts int           // default DefaultMaxMFAAttempts
	ResetTTL       time.Duration // default DefaultResetTTL
	RecentAuth     time.Duration // default DefaultRecentAuth
	// BurstWait bounds how long an attempt that finds the allowance taken
	// by concurrent attempts of this Authenticator on the same account
	// waits for them to be judged instead of being refused; default
	// DefaultBurstWait. See "Brute-force protection" in the package doc.
	BurstWait time.Duration
	// RecentAuthFor overrides RecentAuth for some actions (for example a
	// shorter age for ActionDeleteAccount).
	RecentAuthFor map[SensitiveAction]time.Duration

	Now     func() time.Time // default time.Now
	Rand    io.Reader        // default crypto/rand.Reader
	OnEvent func(context.Context, Event)
}

// Authenticator runs the login flows. It is safe for concurrent use, and
// several Authenticators (in several processes) may share one [Store]: all
// shared state is in the store.
type Authenticator struct {
	cfg   Config
	store Store

	flights flights // attempts in flight per counter key

	dummyMu sync.Mutex
	dummy   string // set once made; a failure is retried by the next caller
}

// New returns an Authenticator over store. It panics if store or a
// required dependency is nil, or RequireMFA is set without MFA: these are
// programming errors.
func New(store Store, cfg Config) *Authenticator {
	if store == nil || cfg.Credentials == nil || cfg.Hasher == nil || cfg.Policy == nil || cfg.Sessions == nil {
		panic("auth: New needs a store, Credentials, Hasher, Policy and Sessions")
	}
	if cfg.RequireMFA && cfg.MFA == nil {
		panic("auth: RequireMFA without an MFA verifier")
	}
	cfg.Lockout = cfg.Lockout.withDefaults()
	cfg.IPLimit = orDefault(cfg.IPLimit, DefaultIPLimit)
	cfg.IPWindow = orDefault(cfg.IPWindow, DefaultIPWindow)
	cfg.ResetLimit = orDefault(cfg.ResetLimit, DefaultResetLimit)
	cfg.PendingTTL = orDefault(cfg.PendingTTL, DefaultPendingTTL)
	cfg.MaxMFAAttempts = orDefault(cfg.MaxMFAAttempts, DefaultMaxMFAAttempts)
	cfg.ResetTTL = orDefault(cfg.ResetTTL, DefaultResetTTL)
	cfg.RecentAuth = orDefault(cfg.RecentAuth, DefaultRecentAuth)
	cfg.BurstWait = orDefault(cfg.BurstWait, DefaultBurstWait)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Rand = randOrDefault(cfg.Rand)
	return &Authenticator{cfg: cfg, store: store}
}

// Client is what auth knows about the caller of a flow.
type Client struct {
	IP        string // from clientip.Resolver; "" disables the per-IP limit for this call
	UserAgent string
	// Binding ties a pending-MFA state to the browser that started it: a
	// value only that browser presents, for example the hash of a
	// pre-login cookie that is not the pending token itself. Required by
	// Login and CompleteMFA.
	Binding string
}

func (a *Authenticator) now() time.Time { return a.cfg.Now().UTC() }

// emit reports e to the hook and the auditor; an auditor error fails the
// calling flow.
func (a *Authenticator) emit(ctx context.Context, e Event, c Client) error {
	e.Time = a.now()
	e.IP, e.UserAgent = c.IP, c.UserAgent
	if e.Outcome == "" {
		e.Outcome = Success
	}
	if e.Actor == "" {
		e.Actor = e.UserID
	}
	if a.cfg.OnEvent != nil {
		a.cfg.OnEvent(ctx, e)
	}
	if a.cfg.Auditor != nil {
		if err := a.cfg.Auditor.Audit(ctx, e); err != nil {
			return fmt.Errorf("auth: audit: %w", err)
		}
	}
	return nil
}

// notify sends n; a failure is reported, never returned.
func (a *Authenticator) notify(ctx context.Context, n Notification, c Client) {
	if a.cfg.Notifier == nil {
		return
	}
	n.Time, n.IP, n.UserAgent = a.now(), c.IP, c.UserAgent
	if err := a.cfg.Notifier.Notify(ctx, n); err != nil {
		_ = a.emit(ctx, Event{Type: EventNotifyFailed, Outcome: Failure, UserID: n.UserID, Reason: string(n.Type)}, c)
	}
}

// dummyHash is a hash of a random password made once with the configured
// hasher, verified when no account matches so that unknown logins cost as
// much as known ones. A failure to make it (a cancelled context, say) is
// not remembered: the next caller tries again, so one bad moment cannot
// make unknown logins fail differently from wrong passwords for good.
func (a *Authenticator) dummyHash(ctx context.Context) (string, error) {
	a.dummyMu.Lock()
	defer a.dummyMu.Unlock()
	if a.dummy != "" {
		return a.dummy, nil
	}
	pw, _, err := newToken(a.cfg.Rand)
	if err != nil {
		return "", err
	}
	h, err := a.cfg.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	a.dummy = h
	return h, nil
}

// findUser looks a user up; found is false for ErrNotFound.
func (a *Authenticator) findUser(ctx context.Context, by Lookup, v string) (User, bool, error) {
	u, err := a.cfg.Credentials.FindUser(ctx, by, v)
	switch {
	case err == nil:
		return u, true, nil
	case errors.Is(err, ErrNotFound):
		return User{}, false, nil
	default:
		return User{}, false, fmt.Errorf("auth: find user: %w", err)
	}
}

// Counter keys. Known accounts are counted by user id, so that logging in
// by username or by email shares one allowance; unknown logins by a hash of
// their case-folded text, which bounds the key size whatever is typed and
// keeps the text (sometimes a mistyped password) out of the store.
func accountKey(u User, found bool, login string) string {
	if found {
		return "acct:" + u.ID
	}
	return "login:" + shortHash(UsernameKey(login))
}

func shortHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:16])
}

// ipKey is the rate-limit key of an address. IPv6 clients are limited per
// /64, the block one subscriber usually holds, since otherwise every
// attacker with a home connection would have 2^64 addresses to rotate
// through.
func ipKey(kind, ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			ip = p.String()
		}
	}
	return kind + ":" + ip
}

func deviceKey(userID, v string) string { return userID + ":" + shortHash(v) }

// orDefault returns v, or d when v is zero or negative.
func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

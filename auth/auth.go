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

// Defaults of [Config]. Each is documented, with its reason, on the
// field it fills.
const (
	// DefaultPendingTTL is the default of [Config.PendingTTL]. It is
	// exported because a host sizes the cookie that carries the pending
	// token by it.
	DefaultPendingTTL = 5 * time.Minute
	// DefaultMaxMFAAttempts is the default of [Config.MaxMFAAttempts],
	// exported for hosts that count the pending state's attempts for their
	// own steps (the demo takes one to mail a sign-in code).
	DefaultMaxMFAAttempts = 5

	defaultResetTTL   = 30 * time.Minute
	defaultIPLimit    = 100
	defaultIPWindow   = 15 * time.Minute
	defaultResetLimit = 5
	defaultBurstWait  = time.Minute
	defaultRecentAuth = 10 * time.Minute
)

// Deps are the collaborators of an [Authenticator]: Bulwark's own packages
// behind small interfaces, and the host's users table and mail. Store,
// Users, Hasher, Policy and Sessions are required; [New] returns an error
// when one is nil.
type Deps struct {
	// Store keeps auth's own state: claims, counters, reset tokens and
	// pending-MFA states (see [Store], [SplitStore]). Required.
	Store Store
	// Users is the host's users table. Required.
	Users CredentialStore
	// Hasher hashes and verifies passwords (password's *Hasher). Required.
	Hasher Hasher
	// Policy checks new passwords (password's Policy). Required.
	Policy PolicyChecker
	// Sessions starts and ends sessions. Required.
	Sessions SessionIssuer
	// MFA is the second factor; nil means none (then [Config.RequireMFA]
	// must be false).
	MFA MFAVerifier
	// Auditor records every [Event] in the audit log, failing the step
	// when it cannot; nil: events go to [Config.Hook] only.
	Auditor Auditor
	// Notifier tells users about activity on their account; nil: no
	// notifications.
	Notifier Notifier
	// Mailer sends password-reset links; nil disables password reset
	// ([Authenticator.RequestPasswordReset] and
	// [Authenticator.AdminStartReset] return an error).
	Mailer ResetMailer
}

// Config holds the tunables of an [Authenticator]. The zero Config means
// every documented default; a zero or negative number or duration means
// its default too.
type Config struct {
	// RequireMFA makes a second factor mandatory for everyone (ASVS 5.0
	// 6.3.3); users without one get [StepEnrollMFA]. It needs [Deps.MFA].
	// Default false: [User.MFARequired] can still require it per user.
	RequireMFA bool

	// Lockout is the per-account brute-force model; its zero value means
	// the defaults documented on [LockoutPolicy].
	Lockout LockoutPolicy
	// IPLimit is the number of failed logins allowed per IP address (IPv6:
	// per /64) per IPWindow. Default 100: far above what one office behind
	// NAT produces, far below what credential stuffing needs (ASVS 5.0
	// 6.1.1, 6.3.1).
	IPLimit int
	// IPWindow is the window of IPLimit and ResetLimit. Default 15 minutes.
	IPWindow time.Duration
	// ResetLimit is the number of reset requests allowed per IP address,
	// and reset emails per account, per IPWindow. Default 5, so that the
	// reset form cannot be used to flood an inbox.
	ResetLimit int
	// PendingTTL is how long the state between a correct password and the
	// second factor lasts. Default [DefaultPendingTTL], 5 minutes (ASVS 5.0
	// 6.5.5 allows out-of-band codes up to 10).
	PendingTTL time.Duration
	// MaxMFAAttempts is the number of second-factor attempts allowed per
	// pending state; then the password step must be repeated. Default
	// [DefaultMaxMFAAttempts], 5 (ASVS 5.0 6.6.3).
	MaxMFAAttempts int
	// ResetTTL is the validity of a password-reset token. Default 30
	// minutes: long enough to reach a mailbox, short enough that an old
	// mail is useless (ASVS 5.0 6.4.1).
	ResetTTL time.Duration
	// RecentAuth is how old an authentication may be for a sensitive
	// action ([Authenticator.RequireRecentAuth]). Default 10 minutes (ASVS
	// 5.0 7.5.1, 7.5.3).
	RecentAuth time.Duration
	// RecentAuthFor overrides RecentAuth for some actions (for example a
	// shorter age for "delete_account"). Default none.
	RecentAuthFor map[string]time.Duration
	// BurstWait bounds how long an attempt that finds the allowance taken
	// by concurrent attempts of this Authenticator on the same account
	// waits for them to be judged instead of being refused. Default one
	// minute: longer than any request timeout, so that in practice the
	// request's context bounds it. See "Brute-force protection" in the
	// package doc.
	BurstWait time.Duration

	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of tokens and usernames. Default crypto/rand.Reader.
	Rand io.Reader
	// Hook, if set, receives every [Event], synchronously, before the
	// [Deps.Auditor] does: a slow hook slows the flow. Default none.
	Hook func(context.Context, Event)
}

// Authenticator runs the login flows. It is safe for concurrent use, and
// several Authenticators (in several processes) may share one [Store]: all
// shared state is in the store.
type Authenticator struct {
	deps  Deps
	cfg   Config
	store Store

	flights flights // attempts in flight per counter key

	dummyMu sync.Mutex
	dummy   string // set once made; a failure is retried by the next caller
}

// New returns an Authenticator over d, configured by cfg (the zero Config
// means all defaults). It returns an error if a required dependency is nil
// (Store, Users, Hasher, Policy, Sessions, or a part of a [SplitStore]), or
// if cfg.RequireMFA is set without d.MFA.
func New(d Deps, cfg Config) (*Authenticator, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("auth: New: Deps.Store is nil")
	case d.Users == nil:
		return nil, errors.New("auth: New: Deps.Users is nil")
	case d.Hasher == nil:
		return nil, errors.New("auth: New: Deps.Hasher is nil")
	case d.Policy == nil:
		return nil, errors.New("auth: New: Deps.Policy is nil")
	case d.Sessions == nil:
		return nil, errors.New("auth: New: Deps.Sessions is nil")
	case cfg.RequireMFA && d.MFA == nil:
		return nil, errors.New("auth: New: RequireMFA without Deps.MFA")
	}
	if s, ok := d.Store.(splitStore); ok && (s.ClaimStore == nil || s.CounterStore == nil || s.ResetTokenStore == nil || s.PendingStore == nil) {
		return nil, errors.New("auth: New: SplitStore with a nil part")
	}
	cfg.Lockout = cfg.Lockout.withDefaults()
	cfg.IPLimit = orDefault(cfg.IPLimit, defaultIPLimit)
	cfg.IPWindow = orDefault(cfg.IPWindow, defaultIPWindow)
	cfg.ResetLimit = orDefault(cfg.ResetLimit, defaultResetLimit)
	cfg.PendingTTL = orDefault(cfg.PendingTTL, DefaultPendingTTL)
	cfg.MaxMFAAttempts = orDefault(cfg.MaxMFAAttempts, DefaultMaxMFAAttempts)
	cfg.ResetTTL = orDefault(cfg.ResetTTL, defaultResetTTL)
	cfg.RecentAuth = orDefault(cfg.RecentAuth, defaultRecentAuth)
	cfg.BurstWait = orDefault(cfg.BurstWait, defaultBurstWait)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Rand = randOrDefault(cfg.Rand)
	return &Authenticator{deps: d, cfg: cfg, store: d.Store}, nil
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
		e.Outcome = outcomeSuccess
	}
	if e.Actor == "" {
		e.Actor = e.UserID
	}
	if a.cfg.Hook != nil {
		a.cfg.Hook(ctx, e)
	}
	if a.deps.Auditor != nil {
		if err := a.deps.Auditor.Audit(ctx, e); err != nil {
			return fmt.Errorf("auth: audit: %w", err)
		}
	}
	return nil
}

// notify sends n; a failure is reported, never returned.
func (a *Authenticator) notify(ctx context.Context, n Notification, c Client) {
	if a.deps.Notifier == nil {
		return
	}
	n.Time, n.IP, n.UserAgent = a.now(), c.IP, c.UserAgent
	if err := a.deps.Notifier.Notify(ctx, n); err != nil {
		_ = a.emit(ctx, Event{Type: EventNotifyFailed, Outcome: outcomeFailure, UserID: n.UserID, Reason: string(n.Type)}, c)
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
	h, err := a.deps.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	a.dummy = h
	return h, nil
}

// findUser looks a user up; found is false for ErrNotFound.
func (a *Authenticator) findUser(ctx context.Context, by Lookup, v string) (User, bool, error) {
	u, err := a.deps.Users.FindUser(ctx, by, v)
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

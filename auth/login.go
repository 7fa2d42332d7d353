package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Step is what a login needs next.
type Step int

// Steps.
const (
	// StepDone: the login is complete and LoginResult.Session holds the new
	// session.
	StepDone Step = iota + 1
	// StepMFA: the password was right; send the user to the second-factor
	// form with LoginResult.PendingToken and call [Authenticator.CompleteMFA].
	StepMFA
	// StepEnrollMFA: the password was right but a second factor is required
	// and the user has none; the host enrols one (mfa's EnrollTOTP and
	// ConfirmTOTP) and then calls [Authenticator.CompleteMFA] with a code.
	StepEnrollMFA
)

// LoginResult is the outcome of a successful [Authenticator.Login] or
// [Authenticator.CompleteMFA] step.
type LoginResult struct {
	Next   Step
	UserID string
	// PendingToken identifies the pending-MFA state (StepMFA,
	// StepEnrollMFA). It is a secret for the browser, not a session: only
	// CompleteMFA accepts it, from the same Client.Binding, within
	// Config.PendingTTL.
	PendingToken string
	Session      IssuedSession // StepDone
}

// factorPassword is the factor name of the password step.
const factorPassword = "password"

// Login runs the password step for login (a username, or whatever the
// host's [CredentialStore] accepts as ByLogin).
//
// An unknown login, a wrong password and a locked account all return
// [ErrInvalidCredentials] after the same work: the password is verified
// against the account's hash, or against a dummy hash made with the same
// hasher when no account matches, and during a lockout it is verified but
// never judged. A client IP over its allowance gets [ErrRateLimited] before
// any of that. A store or dependency failure returns a wrapped error and
// never a session (fail closed).
//
// On success the failure counter is cleared, the hash is upgraded if
// Hasher.NeedsRehash says so, and the result is either a session (no second
// factor) or a pending-MFA token.
func (a *Authenticator) Login(ctx context.Context, login, password string, c Client) (LoginResult, error) {
	if c.Binding == "" {
		return LoginResult{}, ErrBindingRequired
	}
	now := a.now()
	if c.IP != "" {
		n, err := a.store.AddHits(ctx, ipKey("ip", c.IP), now, a.cfg.IPWindow, 0)
		if err != nil {
			return LoginResult{}, fmt.Errorf("auth: rate limit: %w", err)
		}
		if n >= a.cfg.IPLimit {
			if err := a.emit(ctx, Event{Type: EventRateLimited, Outcome: outcomeDenied}, c); err != nil {
				return LoginResult{}, err
			}
			return LoginResult{}, ErrRateLimited
		}
	}
	u, found, err := a.findUser(ctx, ByLogin, login)
	if err != nil {
		return LoginResult{}, err
	}
	key := accountKey(u, found, login)
	att, err := a.reserveAttempt(ctx, key, found, now)
	if err != nil {
		return LoginResult{}, err
	}
	defer att.end()
	hash := u.PasswordHash
	if !found || hash == "" {
		if hash, err = a.dummyHash(ctx); err != nil {
			return LoginResult{}, fmt.Errorf("auth: dummy hash: %w", err)
		}
	}
	verr := a.deps.Hasher.Verify(ctx, password, hash)
	if !found || u.PasswordHash == "" || verr != nil || att.state.Locked {
		reason := "bad_password"
		switch {
		case !found:
			reason = "unknown_user"
		case att.state.Locked:
			reason = "locked"
		}
		return LoginResult{}, a.failed(ctx, u.ID, att, reason, EventLoginFailed, c)
	}
	if err := a.store.ResetCounter(ctx, key); err != nil {
		return LoginResult{}, fmt.Errorf("auth: counter: %w", err)
	}
	att.end() // judged: attempts waiting on this one may go on
	return a.afterPassword(ctx, a.rehash(ctx, u, password), c)
}

// attempt is a password attempt on a counter key: counted and to be
// judged, or (state.Locked) refused unjudged and not counted.
type attempt struct {
	state lockState // the lock in force before this attempt; Locked: refuse it unjudged
	after Counter   // the counter including this attempt (zero if not counted)
	done  func()    // ends the attempt's flight (nil if refused); see end
}

// reserveAttempt counts a password attempt as a failure before the password
// is verified, and says whether it may be judged. Counting first, with the
// store's atomic AddFailure, gives concurrent attempts (on any instance)
// distinct counts, so that a burst fired while the account is unlocked gets
// no more attempts judged than the policy allows: each attempt is judged on
// the state the attempts counted before it left. Reading the lock and
// counting after the verification instead would let every attempt in flight
// pass the same unlocked reading, past any wait and past the hard limit of
// 100. A correct password clears the counter afterwards.
//
// An attempt that finds the account already locked is not counted (counting
// it would let an attacker reach a permanent lock faster); a FailureTouch
// write takes the place of the update, so that it costs the same store work
// (a read and a write of the same row) as a counted attempt. An attempt
// whose count lands past the allowance (attempts counted just before it
// used it up) is refused unjudged too, and its count is taken back with
// FailureUndo, so that only judged attempts count, as documented.
//
// Before refusing, an attempt waits while attempts of this Authenticator
// holding a count on the same key are in flight (at most Config.BurstWait,
// and not past ctx): their counts may be reservations of right passwords
// that are about to clear the counter, as when a client retries a login.
// When they end, it tries again on what they left: a lock if they were
// wrong, a clear counter if one was right. The caller must call
// [attempt.end] once the attempt is judged.
func (a *Authenticator) reserveAttempt(ctx context.Context, key string, known bool, now time.Time) (attempt, error) {
	deadline := time.Now().Add(a.cfg.BurstWait)
	for {
		at, err := a.tryReserve(ctx, key, known, now)
		if err != nil || !at.state.Locked {
			return at, err
		}
		if !a.flights.wait(ctx, key, deadline) {
			return at, nil
		}
		now = a.now()
	}
}

// tryReserve is one pass of reserveAttempt, without waiting.
func (a *Authenticator) tryReserve(ctx context.Context, key string, known bool, now time.Time) (attempt, error) {
	cnt, err := a.store.Counter(ctx, key, now)
	if err != nil {
		return attempt{}, fmt.Errorf("auth: counter: %w", err)
	}
	at := attempt{state: a.cfg.Lockout.state(cnt, now)}
	p := a.cfg.Lockout.failureParams(now, known)
	if at.state.Locked {
		p.Op = FailureTouch
		if _, err := a.store.AddFailure(ctx, key, p); err != nil {
			return attempt{}, fmt.Errorf("auth: counter: %w", err)
		}
		return at, nil
	}
	// Registered before the count exists, so that any count of this
	// instance's in the store has a flight another attempt can wait for.
	end := a.flights.begin(key)
	if at.after, err = a.store.AddFailure(ctx, key, p); err != nil {
		end()
		return attempt{}, fmt.Errorf("auth: counter: %w", err)
	}
	if at.after.Consecutive != cnt.Consecutive+1 {
		// Other attempts were counted between the read and the update: they
		// happened just now, and this attempt is judged on the state they
		// left.
		prior := Counter{Failures: at.after.Failures - 1, Consecutive: at.after.Consecutive - 1, LastFailure: now}
		at.state = a.cfg.Lockout.state(prior, now)
	}
	if at.state.Locked {
		// Refused unjudged: take the count back.
		p.Op = FailureUndo
		_, err := a.store.AddFailure(ctx, key, p)
		end()
		if err != nil {
			return attempt{}, fmt.Errorf("auth: counter: %w", err)
		}
		at.after = Counter{}
		return at, nil
	}
	at.done = end
	return at, nil
}

// end ends a judged attempt's flight; refused attempts have none.
func (at attempt) end() {
	if at.done != nil {
		at.done()
	}
}

// flights tracks, per counter key, the attempts of one Authenticator that
// hold a count in the store and are not judged yet.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	n       int
	changed chan struct{} // closed (and replaced) when an attempt ends
}

// begin registers an attempt on key and returns the function that ends it
// (idempotent).
func (fs *flights) begin(key string) func() {
	fs.mu.Lock()
	if fs.m == nil {
		fs.m = map[string]*flight{}
	}
	f := fs.m[key]
	if f == nil {
		f = &flight{changed: make(chan struct{})}
		fs.m[key] = f
	}
	f.n++
	fs.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			fs.mu.Lock()
			defer fs.mu.Unlock()
			f.n--
			close(f.changed)
			f.changed = make(chan struct{})
			if f.n == 0 {
				delete(fs.m, key)
			}
		})
	}
}

// wait reports whether an attempt on key ended after waiting for one; it
// returns false at once when none is in flight, and when ctx ends or the
// deadline passes first.
func (fs *flights) wait(ctx context.Context, key string, deadline time.Time) bool {
	fs.mu.Lock()
	f := fs.m[key]
	if f == nil {
		fs.mu.Unlock()
		return false
	}
	ch := f.changed
	fs.mu.Unlock()
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	case <-timer.C:
		return false
	}
}

// failed records a failed password attempt (already counted by
// reserveAttempt) for userID ("" if unknown) and returns the error to give
// the caller: ErrInvalidCredentials, or a system error.
func (a *Authenticator) failed(ctx context.Context, userID string, at attempt, reason string, typ EventType, c Client) error {
	now := a.now()
	if c.IP != "" {
		if _, err := a.store.AddHits(ctx, ipKey("ip", c.IP), now, a.cfg.IPWindow, 1); err != nil {
			return fmt.Errorf("auth: rate limit: %w", err)
		}
	}
	outcome := outcomeFailure
	if at.state.Locked {
		// Refused during a lock, unjudged.
		outcome = outcomeDenied
	} else if ns := a.cfg.Lockout.state(at.after, now); ns.Locked {
		// A lock on an unknown login is audited too (with no user id): the
		// failure that starts a lock then costs the same audit write whether
		// or not the account exists. Only real accounts are notified.
		kind := "temporary"
		if ns.Permanent {
			kind = "permanent"
		}
		if err := a.emit(ctx, Event{Type: EventLockout, Outcome: outcomeDenied, UserID: userID, Reason: kind}, c); err != nil {
			return err
		}
		// The owner hears of the first lock of a run and of a permanent
		// one, not of every later step of the same attack.
		if userID != "" && (ns.Permanent || at.after.Failures == a.cfg.Lockout.FailureFactor) {
			n := Notification{Type: NotifyLockout, UserID: userID}
			if !ns.Permanent {
				n.Until = ns.Until
			}
			a.notify(ctx, n, c)
		}
	}
	if err := a.emit(ctx, Event{Type: typ, Outcome: outcome, UserID: userID, Reason: reason}, c); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// rehash upgrades u's hash after a successful verification and returns u
// with the hash now stored. Failures are ignored: the old hash still works,
// and the next login tries again.
func (a *Authenticator) rehash(ctx context.Context, u User, password string) User {
	if !a.deps.Hasher.NeedsRehash(u.PasswordHash) {
		return u
	}
	if h, err := a.deps.Hasher.Hash(ctx, password); err == nil {
		if a.deps.Users.SetPasswordHash(ctx, u.ID, h) == nil {
			u.PasswordHash = h
		}
	}
	return u
}

// pendingBinding is what a pending state stores to bind it: the browser's
// binding value and the password hash the login was checked against, so
// that a password reset or change between the two steps voids the state.
func pendingBinding(binding, passwordHash string) []byte {
	h := sha256.New()
	h.Write([]byte("bulwark/auth/pending/v1\x00"))
	h.Write([]byte(binding))
	h.Write([]byte{0})
	h.Write([]byte(passwordHash))
	return h.Sum(nil)
}

// afterPassword decides between a session and a second-factor step.
func (a *Authenticator) afterPassword(ctx context.Context, u User, c Client) (LoginResult, error) {
	need := a.cfg.RequireMFA || u.MFARequired
	enrolled := false
	if a.deps.MFA != nil {
		var err error
		if enrolled, err = a.deps.MFA.Enrolled(ctx, u.ID); err != nil {
			return LoginResult{}, fmt.Errorf("auth: mfa status: %w", err)
		}
	}
	if !enrolled && !need {
		return a.finish(ctx, u, []string{factorPassword}, c)
	}
	if a.deps.MFA == nil {
		return LoginResult{}, errors.New("auth: user requires a second factor but no MFA verifier is configured")
	}
	tok, h, err := newToken(a.cfg.Rand)
	if err != nil {
		return LoginResult{}, err
	}
	now := a.now()
	p := Pending{Hash: h, UserID: u.ID, BindingHash: pendingBinding(c.Binding, u.PasswordHash), Enroll: !enrolled,
		CreatedAt: now, ExpiresAt: now.Add(a.cfg.PendingTTL)}
	if err := a.store.CreatePending(ctx, p); err != nil {
		return LoginResult{}, fmt.Errorf("auth: pending: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventMFAPending, UserID: u.ID}, c); err != nil {
		return LoginResult{}, err
	}
	next := StepMFA
	if !enrolled {
		next = StepEnrollMFA
	}
	return LoginResult{Next: next, UserID: u.ID, PendingToken: tok}, nil
}

// CompleteMFA runs the second-factor step of a login started by
// [Authenticator.Login]. It returns [ErrBindingRequired] without a binding,
// [ErrInvalidPending] if the pending token is unknown, expired, used up,
// presented with another binding than at Login, or if the user's password
// was changed or reset since Login, and [ErrInvalidCode] for a
// wrong or replayed code (after Config.MaxMFAAttempts such codes the pending
// state is gone and the password step must be repeated: the code that used
// up the last attempt also matches [ErrMFAAttemptsExhausted]). A locked
// factor adds a [*MFALockedError] (found with errors.As) saying until
// when; the code that locked it is audited as [EventMFALockout] and the
// owner is notified ([NotifyMFALocked]). On success the
// pending state is deleted (once: a second completion fails) and a new
// session starts with a fresh token.
func (a *Authenticator) CompleteMFA(ctx context.Context, pendingToken, code string, c Client) (LoginResult, error) {
	if c.Binding == "" {
		return LoginResult{}, ErrBindingRequired
	}
	if a.deps.MFA == nil {
		return LoginResult{}, ErrInvalidPending
	}
	h := hashToken(pendingToken)
	p, err := a.store.AttemptPending(ctx, h, a.now(), a.cfg.MaxMFAAttempts)
	if errors.Is(err, ErrNotFound) {
		return LoginResult{}, a.mfaFailed(ctx, "", "expired", ErrInvalidPending, c)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: pending: %w", err)
	}
	u, found, err := a.findUser(ctx, ByID, p.UserID)
	if err != nil {
		return LoginResult{}, err
	}
	if !found {
		return LoginResult{}, a.mfaFailed(ctx, p.UserID, "no_user", ErrInvalidPending, c)
	}
	// Another browser, or a password changed or reset since Login.
	if subtle.ConstantTimeCompare(p.BindingHash, pendingBinding(c.Binding, u.PasswordHash)) != 1 {
		return LoginResult{}, a.mfaFailed(ctx, p.UserID, "binding", ErrInvalidPending, c)
	}
	factor, verr := a.deps.MFA.VerifyMFA(ctx, p.UserID, code)
	if verr != nil {
		return LoginResult{}, a.wrongCode(ctx, h, p, verr, c)
	}
	if err := a.store.DeletePending(ctx, h); errors.Is(err, ErrNotFound) {
		return LoginResult{}, a.mfaFailed(ctx, p.UserID, "used", ErrInvalidPending, c)
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("auth: pending: %w", err)
	}
	return a.finish(ctx, u, []string{factorPassword, factor}, c)
}

// wrongCode handles a refused second-factor code: it ends a pending state
// whose attempts are used up, reports a factor that this code locked (an
// audit event and a mail to the owner, once per lock), and returns an
// error that matches ErrInvalidCode and says what happened.
func (a *Authenticator) wrongCode(ctx context.Context, h []byte, p Pending, verr error, c Client) error {
	errs := []error{ErrInvalidCode}
	if p.Attempts >= a.cfg.MaxMFAAttempts {
		if err := a.store.DeletePending(ctx, h); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("auth: pending: %w", err)
		}
		errs = append(errs, ErrMFAAttemptsExhausted)
	}
	reason := "invalid"
	var le *MFALockedError
	if errors.As(verr, &le) {
		errs = append(errs, le)
		if !le.Triggered {
			reason = "locked"
		} else {
			if err := a.emit(ctx, Event{Type: EventMFALockout, Outcome: outcomeDenied, UserID: p.UserID, Reason: le.Factor}, c); err != nil {
				return err
			}
			a.notify(ctx, Notification{Type: NotifyMFALocked, UserID: p.UserID, Factor: le.Factor, Until: le.Until}, c)
		}
	}
	return a.mfaFailed(ctx, p.UserID, reason, errors.Join(errs...), c)
}

func (a *Authenticator) mfaFailed(ctx context.Context, userID, reason string, ret error, c Client) error {
	if err := a.emit(ctx, Event{Type: EventMFAFailed, Outcome: outcomeFailure, UserID: userID, Reason: reason}, c); err != nil {
		return err
	}
	return ret
}

// finish starts the session and audits the login. A session that cannot
// be audited is ended at once (fail closed); a refused session is audited
// as a denied login.
func (a *Authenticator) finish(ctx context.Context, u User, factors []string, c Client) (LoginResult, error) {
	s, err := a.deps.Sessions.StartSession(ctx, u.ID, SessionStart{Factors: factors, AuthTime: a.now(), IP: c.IP, UserAgent: c.UserAgent})
	if err != nil {
		if aerr := a.emit(ctx, Event{Type: EventLoginFailed, Outcome: outcomeDenied, UserID: u.ID, Reason: "session_refused"}, c); aerr != nil {
			return LoginResult{}, errors.Join(fmt.Errorf("auth: start session: %w", err), aerr)
		}
		return LoginResult{}, fmt.Errorf("auth: start session: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventLogin, UserID: u.ID, Reason: strings.Join(factors, "+")}, c); err != nil {
		if eerr := a.deps.Sessions.EndSession(ctx, u.ID, s.ID); eerr != nil {
			return LoginResult{}, errors.Join(err, fmt.Errorf("auth: end unaudited session: %w", eerr))
		}
		return LoginResult{}, err
	}
	a.checkDevice(ctx, u.ID, c)
	return LoginResult{Next: StepDone, UserID: u.ID, Session: s}, nil
}

// Claim kinds of known devices and addresses.
const (
	claimDevice = "device" // key: user id + hash of the User-Agent
	claimIP     = "ip"     // key: user id + hash of the IP address
)

// rememberDevice claims c's device and IP for userID and reports whether
// either was new. Store errors count as "not new": a notification is not
// worth failing a login for.
func (a *Authenticator) rememberDevice(ctx context.Context, userID string, c Client) bool {
	isNew := false
	for _, cl := range []Claim{
		{Kind: claimDevice, Key: deviceKey(userID, c.UserAgent), Owner: userID, CreatedAt: a.now()},
		{Kind: claimIP, Key: deviceKey(userID, c.IP), Owner: userID, CreatedAt: a.now()},
	} {
		if err := a.store.Claim(ctx, cl); err == nil {
			isNew = true
		}
	}
	return isNew
}

// checkDevice notifies the user of a login from a new device or address
// (ASVS 5.0 6.3.5).
func (a *Authenticator) checkDevice(ctx context.Context, userID string, c Client) {
	if a.rememberDevice(ctx, userID, c) {
		_ = a.emit(ctx, Event{Type: EventNewDevice, UserID: userID}, c)
		a.notify(ctx, Notification{Type: NotifyNewDevice, UserID: userID}, c)
	}
}

package main

// The sign-up and sign-in glue. It is the one file that decides who a
// visitor is; everything else reads the session. Until package auth is
// wired in, it composes password, mfa and session directly.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/session"
)

const (
	pendingCookie   = "webapp-pending"
	pendingLifetime = 5 * time.Minute // password accepted, second factor awaited
	pendingAttempts = 5               // codes per pending sign-in, then the password again
)

// The same answer for an unknown login and a wrong password (no account
// enumeration).
const msgBadCredentials = "That login and password do not match an account."

type signupForm struct {
	FirstName, LastName, Email string
}

func (a *App) signupPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "signup", view{Title: "Create an account", Data: signupForm{}})
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := signupForm{
		FirstName: strings.TrimSpace(r.PostFormValue("first_name")),
		LastName:  strings.TrimSpace(r.PostFormValue("last_name")),
		Email:     strings.TrimSpace(r.PostFormValue("email")),
	}
	pw := r.PostFormValue("password")
	fail := func(msg string) {
		a.render(w, r, http.StatusUnprocessableEntity, "signup", view{Title: "Create an account", Error: msg, Data: f})
	}
	if f.FirstName == "" || f.LastName == "" || !strings.Contains(f.Email, "@") {
		fail("Please give your first name, last name and email address.")
		return
	}
	if err := a.policy.Check(ctx, pw, f.FirstName, f.LastName, f.Email); err != nil {
		fail("Please choose another password: " + describePolicyError(err))
		return
	}
	hash, err := a.hasher.Hash(ctx, pw)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	u := User{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, PasswordHash: hash, CreatedAt: a.cfg.Now()}
	if err := a.createWithUsername(ctx, &u); err != nil {
		if errors.Is(err, errTaken) {
			fail("An account with this email address already exists. Sign in instead.")
			return
		}
		a.internalError(w, r, err)
		return
	}
	// Retention: a new account is on the free plan, erased after 60 days
	// of inactivity by the saas-lifecycle preset.
	now := a.cfg.Now()
	if err := a.subjects.PutSubject(ctx, retention.Subject{ID: u.ID, State: retention.StateFree, Since: now, LastActive: now, HasKey: true}); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.mail.send(u.Email, "Welcome to the Bulwark demo",
		fmt.Sprintf("Your account was created. Your login is %s (you can also sign in with your email address).", u.Username))
	a.startSession(w, r, u, []string{"password"}, "/account/mfa?welcome="+u.Username)
}

var errTaken = errors.New("webapp: email taken")

// createWithUsername gives the user a login such as JanKowalski37: the
// name's letters plus a random number, drawn again on a collision.
func (a *App) createWithUsername(ctx context.Context, u *User) error {
	if _, err := a.db.userByLogin(ctx, u.Email); err == nil {
		return errTaken
	}
	base := lettersOnly(u.FirstName) + lettersOnly(u.LastName)
	for range 5 {
		n, err := rand.Int(rand.Reader, big.NewInt(90))
		if err != nil {
			return err
		}
		u.Username = fmt.Sprintf("%s%d", base, n.Int64()+10)
		if err := a.db.createUser(ctx, u); err == nil {
			return nil
		}
		if _, err := a.db.userByLogin(ctx, u.Email); err == nil {
			return errTaken
		}
	}
	return errors.New("webapp: no free username")
}

func lettersOnly(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			if i == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// passwordCheck answers the sign-up page's live feedback: the strength
// estimate and every policy rule the password breaks. It is the same
// policy the server enforces on submit.
func (a *App) passwordCheck(w http.ResponseWriter, r *http.Request) {
	pw := r.PostFormValue("password")
	words := []string{r.PostFormValue("first_name"), r.PostFormValue("last_name"), r.PostFormValue("email")}
	s := password.Estimate(pw, words...)
	out := struct {
		Score    int      `json:"score"`
		Problems []string `json:"problems"`
	}{Score: s.Score, Problems: []string{}}
	var pe *password.PolicyError
	if err := a.policy.Check(r.Context(), pw, words...); errors.As(err, &pe) {
		for _, v := range pe.Violations {
			out.Problems = append(out.Problems, describeViolation(v))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func describePolicyError(err error) string {
	var pe *password.PolicyError
	if !errors.As(err, &pe) {
		return "it could not be checked"
	}
	var parts []string
	for _, v := range pe.Violations {
		parts = append(parts, describeViolation(v))
	}
	return strings.Join(parts, "; ")
}

func describeViolation(v password.Violation) string {
	switch v.Code {
	case password.CodeTooShort:
		return fmt.Sprintf("use at least %d characters", v.Params["min"])
	case password.CodeTooLong:
		return fmt.Sprintf("use at most %d characters", v.Params["max"])
	case password.CodeCommon:
		return "it is one of the most common passwords"
	case password.CodeContextWord:
		return "it contains your name, your email or the site's name"
	}
	return v.String()
}

// Sign in.

func (a *App) signinPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Sign in"}
	switch {
	case r.URL.Query().Has("ended"):
		v.Notice = "Your session has ended: it timed out after inactivity, or was ended from another device."
	case r.URL.Query().Has("bye"):
		v.Notice = "You are signed out."
	case r.URL.Query().Has("deleted"):
		v.Notice = "Your account and all its data have been erased."
	}
	a.render(w, r, http.StatusOK, "signin", v)
}

func (a *App) signin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	login, pw := r.PostFormValue("login"), r.PostFormValue("password")
	fail := func() {
		a.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Error: msgBadCredentials})
	}
	u, err := a.db.userByLogin(ctx, login)
	switch {
	case errors.Is(err, errNotFound):
		_ = a.hasher.Verify(ctx, pw, a.dummyHash()) // same work as a wrong password
		fail()
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	if err := a.hasher.Verify(ctx, pw, u.PasswordHash); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			a.internalError(w, r, err)
			return
		}
		fail()
		return
	}
	st, err := a.factors.Status(ctx, u.ID)
	if err != nil {
		a.internalError(w, r, err) // fail closed: no MFA status, no sign-in
		return
	}
	if st.TOTP != mfa.TOTPActive {
		a.startSession(w, r, u, []string{"password"}, "/clients")
		return
	}
	token, err := a.pending.start(u.ID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: token, Path: "/signin", HttpOnly: true,
		Secure: a.cfg.TLS, SameSite: http.SameSiteLaxMode, MaxAge: int(pendingLifetime / time.Second)}) //nolint:gosec // Secure only under TLS: plain-HTTP development
	http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
}

var (
	dummyOnce sync.Once
	dummy     string
)

// dummyHash is a hash no password matches, verified for unknown logins so
// they cost the same time as a wrong password.
func (a *App) dummyHash() string {
	dummyOnce.Do(func() { dummy, _ = a.hasher.Hash(context.Background(), rand.Text()) })
	return dummy
}

func (a *App) signinMFAPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.pendingUser(r); !ok {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "signin_mfa", view{Title: "Second factor"})
}

func (a *App) signinMFA(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, _ := r.Cookie(pendingCookie)
	p, ok := a.pendingUser(r)
	if !ok || !a.pending.attempt(c.Value) {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	var err error
	factor := "totp"
	switch r.PostFormValue("kind") {
	case "recovery":
		factor = "recovery"
		_, err = a.factors.UseRecoveryCode(ctx, p, code)
	case "email":
		factor = "email"
		err = a.factors.VerifyCode(ctx, p, mfa.PurposeLogin, code)
	default:
		err = a.factors.VerifyTOTP(ctx, p, code)
	}
	if err != nil && !isCodeError(err) {
		a.internalError(w, r, err) // fail closed
		return
	}
	if err != nil {
		msg := "That code is not valid. Try the current one."
		if errors.Is(err, mfa.ErrLocked) {
			msg = "Too many wrong codes: this factor is locked for a while."
		}
		a.render(w, r, http.StatusUnauthorized, "signin_mfa", view{Title: "Second factor", Error: msg})
		return
	}
	a.pending.end(c.Value)
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Path: "/signin", MaxAge: -1, HttpOnly: true,
		Secure: a.cfg.TLS, SameSite: http.SameSiteLaxMode}) //nolint:gosec // Secure only under TLS: plain-HTTP development
	u, err := a.db.userByID(ctx, p)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.startSession(w, r, u, []string{"password", factor}, "/clients")
}

// signinMFAEmail sends a one-time code to the account's address, the
// alternative to the authenticator app.
func (a *App) signinMFAEmail(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pendingUser(r)
	if !ok {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	u, err := a.db.userByID(r.Context(), p)
	if err == nil {
		err = a.factors.SendCode(r.Context(), u.ID, u.Email, mfa.PurposeLogin)
	}
	v := view{Title: "Second factor", Notice: "We sent a code to your email address (see the development mailbox)."}
	if err != nil {
		v = view{Title: "Second factor", Error: "We could not send a code just now. Wait a minute and try again."}
	}
	a.render(w, r, http.StatusOK, "signin_mfa", v)
}

// startSession is the end of every successful sign-in: a new session
// token (session fixation), the single-session rule, and the retention
// clock's "last active".
func (a *App) startSession(w http.ResponseWriter, r *http.Request, u User, factors []string, next string) {
	ctx := r.Context()
	_, err := a.sessions.Login(w, r, u.ID, session.Login{Factors: factors})
	if errors.Is(err, session.ErrLimit) {
		a.render(w, r, http.StatusConflict, "signin", view{Title: "Sign in",
			Error: "This account is already signed in on another device. Sign out there, or wait until that session times out after " +
				a.sessions.IdleTimeout().String() + " of inactivity."})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	now := a.cfg.Now()
	if err := a.subjects.PutSubject(ctx, retention.Subject{ID: u.ID, State: retention.StateFree, Since: u.CreatedAt, LastActive: now, HasKey: true}); err != nil {
		a.logError(ctx, err)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) signout(w http.ResponseWriter, r *http.Request) {
	if err := a.sessions.Logout(w, r); err != nil {
		a.internalError(w, r, err)
		return
	}
	// ASVS 14.3.1: clear what the browser kept of the signed-in pages.
	w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
	http.Redirect(w, r, "/signin?bye=1", http.StatusSeeOther)
}

// pendingSignins remembers sign-ins whose password was right and whose
// second factor is awaited, bound to the browser by a cookie. Only the
// token's SHA-256 is kept. In memory, so one instance only; package auth
// keeps them in the shared store.
type pendingSignins struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[[32]byte]*pendingSignin
}

type pendingSignin struct {
	user     string
	expires  time.Time
	attempts int
}

func newPendingSignins(now func() time.Time) *pendingSignins {
	return &pendingSignins{now: now, m: map[[32]byte]*pendingSignin{}}
}

func (p *pendingSignins) start(user string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for k, v := range p.m {
		if now.After(v.expires) {
			delete(p.m, k)
		}
	}
	p.m[sha256.Sum256([]byte(token))] = &pendingSignin{user: user, expires: now.Add(pendingLifetime)}
	return token, nil
}

// lookup finds a live pending sign-in. The map is keyed by the token's
// SHA-256, so a lookup's timing says nothing about the token.
func (p *pendingSignins) lookup(token string) (*pendingSignin, [32]byte, bool) {
	h := sha256.Sum256([]byte(token))
	v, ok := p.m[h]
	if !ok || !p.now().Before(v.expires) {
		return nil, h, false
	}
	return v, h, true
}

func (p *pendingSignins) user(token string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, _, ok := p.lookup(token)
	if !ok {
		return "", false
	}
	return v.user, true
}

// attempt counts one code submission; false once the allowance is spent.
func (p *pendingSignins) attempt(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, k, ok := p.lookup(token)
	if !ok {
		return false
	}
	v.attempts++
	if v.attempts > pendingAttempts {
		delete(p.m, k)
		return false
	}
	return true
}

func (p *pendingSignins) end(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, k, ok := p.lookup(token); ok {
		delete(p.m, k)
	}
}

func (a *App) pendingUser(r *http.Request) (string, bool) {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return "", false
	}
	return a.pending.user(c.Value)
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

// startPasswordReset sends the user a reset link. Resets come with
// package auth; until it is wired in, the app refuses.
func (a *App) startPasswordReset(context.Context, string) error {
	return errors.New("webapp: password reset needs package auth")
}

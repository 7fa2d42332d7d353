package main

// Sign-up, sign-in, password reset: package auth runs every flow (policy,
// generated username, brute-force throttle, pending second factor bound to
// the browser, no account enumeration, audit events); these handlers only
// translate between forms and auth's calls.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/session"
)

const (
	// browserCookie is a random value set before sign-in; its hash binds a
	// pending second-factor step to this browser (auth.Client.Binding), so
	// a stolen pending token is useless elsewhere.
	browserCookie = "webapp-browser"
	// pendingCookie holds auth's pending token between the password and
	// the second factor.
	pendingCookie = "webapp-pending"
)

// client describes the caller to auth: IP from the trusted-proxy resolver,
// user agent, and the browser binding.
func (a *App) client(r *http.Request) auth.Client {
	c := auth.Client{IP: a.cfg.ClientIP.String(r), UserAgent: r.UserAgent()}
	if bc, err := r.Cookie(browserCookie); err == nil && bc.Value != "" {
		h := sha256.Sum256([]byte(bc.Value))
		c.Binding = hex.EncodeToString(h[:])
	}
	return c
}

// cookie returns a pre-login cookie with the attributes session uses:
// HttpOnly, SameSite=Lax, Secure under TLS.
func (a *App) cookie(name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.cfg.TLS} //nolint:gosec // Secure only under TLS, like session's InsecureDevCookie
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// ensureBrowserCookie gives the browser its binding value on the sign-in page.
func (a *App) ensureBrowserCookie(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(browserCookie); err == nil && c.Value != "" {
		return
	}
	http.SetCookie(w, a.cookie(browserCookie, rand.Text(), "/", 0))
}

func (a *App) signupPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "signup", view{Title: "Create an account", Data: auth.Registration{}})
}

func (a *App) signup(w http.ResponseWriter, r *http.Request) {
	reg := auth.Registration{
		FirstName: strings.TrimSpace(r.PostFormValue("first_name")),
		LastName:  strings.TrimSpace(r.PostFormValue("last_name")),
		Email:     strings.TrimSpace(r.PostFormValue("email")),
		Password:  r.PostFormValue("password"),
	}
	fail := func(msg string) {
		reg.Password = "" // never echoed back
		a.render(w, r, http.StatusUnprocessableEntity, "signup", view{Title: "Create an account", Error: msg, Data: reg})
	}
	if msg := tooLong(field{"First name", reg.FirstName, maxName}, field{"Last name", reg.LastName, maxName}); msg != "" {
		fail(msg)
		return
	}
	if reg.FirstName == "" || reg.LastName == "" || !validEmail(reg.Email) {
		fail("Please give your first name, last name and email address.")
		return
	}
	err := a.auth.Register(r.Context(), reg, a.client(r))
	var pe *password.PolicyError
	switch {
	case errors.As(err, &pe):
		fail("Please choose another password: " + describePolicyError(err))
		return
	case errors.Is(err, auth.ErrInvalidName):
		fail("Please give your first name and last name in letters.")
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	// The same answer whether or not the address already had an account
	// (ASVS 6.3.8): the login name arrives by email.
	a.render(w, r, http.StatusOK, "signup_done", view{Title: "Check your email", Data: reg.Email})
}

// validEmail is a light check: the address is really checked by mail
// reaching it.
func validEmail(s string) bool {
	a, err := netmail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
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
	parts := make([]string, 0, len(pe.Violations))
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
	a.ensureBrowserCookie(w, r)
	v := view{Title: "Sign in"}
	switch {
	case r.URL.Query().Has("ended"):
		v.Notice = "Your session has ended: it timed out after inactivity, or was ended from another device."
	case r.URL.Query().Has("bye"):
		v.Notice = "You are signed out."
	case r.URL.Query().Has("deleted"):
		v.Notice = "Your account and all its data have been erased."
	case r.URL.Query().Has("reset"):
		v.Notice = "Your password is changed. Sign in with it."
	}
	a.render(w, r, http.StatusOK, "signin", v)
}

func (a *App) signin(w http.ResponseWriter, r *http.Request) {
	res, err := a.auth.Login(a.signInContext(r), r.PostFormValue("login"), r.PostFormValue("password"), a.client(r))
	a.afterLogin(w, r, res, err, "signin")
}

// afterLogin turns auth's answer into a page: the session was started
// (its cookie is set here, by session's code), or a second factor is
// needed, or the attempt failed with one message for every cause.
func (a *App) afterLogin(w http.ResponseWriter, r *http.Request, res auth.LoginResult, err error, page string) {
	title := map[string]string{"signin": "Sign in", "signin_mfa": "Second factor"}[page]
	var locked *auth.MFALockedError
	fail := func(status int, msg string) {
		a.ensureBrowserCookie(w, r)
		a.render(w, r, status, page, view{Title: title, Error: msg})
	}
	switch {
	case errors.Is(err, session.ErrLimit): // the single-session rule; the attempt is over
		http.SetCookie(w, a.cookie(pendingCookie, "", "/signin", -1))
		page, title = "signin", "Sign in"
		fail(http.StatusConflict, "This account is already signed in on another device. Sign out there, or wait until that session times out after "+
			humanDuration(a.sessions.Config().IdleTimeout)+" of inactivity.")
	case errors.Is(err, auth.ErrInvalidCredentials):
		fail(http.StatusUnauthorized, "That login and password do not match an account.")
	case errors.Is(err, auth.ErrRateLimited):
		fail(http.StatusTooManyRequests, "Too many failed sign-ins from your network. Please wait a few minutes.")
	case errors.As(err, &locked) && errors.Is(err, auth.ErrMFAAttemptsExhausted):
		// This sign-in is over: say so on the sign-in page.
		http.SetCookie(w, a.cookie(pendingCookie, "", "/signin", -1))
		page, title = "signin", "Sign in"
		fail(http.StatusUnauthorized, lockMessage(locked)+" Sign in again then, or sign in again now and use a recovery code.")
	case errors.As(err, &locked):
		fail(http.StatusUnauthorized, lockMessage(locked)+" Use a recovery code, or wait until then. We have emailed you about it.")
	case errors.Is(err, auth.ErrMFAAttemptsExhausted):
		http.SetCookie(w, a.cookie(pendingCookie, "", "/signin", -1))
		page, title = "signin", "Sign in"
		fail(http.StatusUnauthorized, "Too many wrong codes for this sign-in. Please sign in again.")
	case errors.Is(err, auth.ErrInvalidCode):
		fail(http.StatusUnauthorized, "That code is not valid. Try the current one.")
	case errors.Is(err, auth.ErrInvalidPending), errors.Is(err, auth.ErrBindingRequired):
		http.SetCookie(w, a.cookie(pendingCookie, "", "/signin", -1))
		a.ensureBrowserCookie(w, r)
		a.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Error: "That sign-in attempt has expired. Please start again."})
	case err != nil:
		a.internalError(w, r, err) // fail closed
	case res.Next == auth.StepMFA:
		http.SetCookie(w, a.cookie(pendingCookie, res.PendingToken, "/signin", auth.DefaultPendingTTL))
		http.Redirect(w, r, "/signin/mfa", http.StatusSeeOther)
	case res.Next == auth.StepDone:
		a.sessions.SetCookie(w, res.Session.Token)
		http.SetCookie(w, a.cookie(pendingCookie, "", "/signin", -1))
		a.touchSubject(r, res.UserID)
		http.Redirect(w, r, "/clients", http.StatusSeeOther)
	default:
		a.internalError(w, r, fmt.Errorf("unexpected login step %d", res.Next))
	}
}

// lockMessage says which second factor is locked and until when. It is
// shown only after the password step, so it reveals nothing about the
// password.
func lockMessage(e *auth.MFALockedError) string {
	return fmt.Sprintf("Too many wrong codes: %s locked until %s UTC.", factorPhrase(e.Factor), e.Until.UTC().Format("15:04"))
}

// factorPhrase names a locked factor for a sentence ending in "locked".
func factorPhrase(factor string) string {
	switch factor {
	case "totp":
		return "codes from your authenticator app are"
	case "email":
		return "emailed codes are"
	}
	return "this second factor is"
}

// touchSubject tells retention the user was active: the free plan's
// inactivity rule counts from here.
func (a *App) touchSubject(r *http.Request, userID string) {
	u, err := a.db.userByID(r.Context(), userID)
	if err == nil {
		now := a.cfg.Now()
		err = a.subjects.PutSubject(r.Context(), retention.Subject{ID: userID, State: retention.StateFree, Since: u.CreatedAt, LastActive: now, HasKey: true})
	}
	if err != nil {
		a.logError(r.Context(), err)
	}
}

func (a *App) signinMFAPage(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(pendingCookie); err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "signin_mfa", view{Title: "Second factor"})
}

func (a *App) signinMFA(w http.ResponseWriter, r *http.Request) {
	pc, err := r.Cookie(pendingCookie)
	if err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	res, err := a.auth.CompleteMFA(a.signInContext(r), pc.Value, strings.TrimSpace(r.PostFormValue("code")), a.client(r))
	a.afterLogin(w, r, res, err, "signin_mfa")
}

// signinMFAEmail mails a one-time code, the alternative to the app, to
// users who turned emailed codes on (mfa refuses the others: for them the
// mailbox, which also receives reset links, is no second factor). The
// pending token is checked by auth when the code comes back; the address
// is the account's own.
func (a *App) signinMFAEmail(w http.ResponseWriter, r *http.Request) {
	user, ok := a.pendingUser(r)
	v := view{Title: "Second factor", Notice: a.mailNotice("We sent a code to your email address", readerSignedOut)}
	if ok {
		u, err := a.db.userByID(r.Context(), user)
		if err == nil {
			err = a.factors.SendLoginCode(r.Context(), u.ID, u.Email)
		}
		switch {
		case errors.Is(err, mfa.ErrNotEnrolled):
			v = view{Title: "Second factor", Error: emailCodesOffMessage}
		case errors.Is(err, mfa.ErrThrottled):
			v = view{Title: "Second factor", Error: codeThrottledMessage}
		case err != nil:
			a.internalError(w, r, err)
			return
		}
	}
	a.render(w, r, http.StatusOK, "signin_mfa", v)
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

// Password reset. The request answers the same for known and unknown
// addresses; the link's token is single-use and expires in 30 minutes; a
// reset ends every session and never bypasses the second factor.

func (a *App) forgotPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "forgot", view{Title: "Forgot your password?"})
}

func (a *App) forgot(w http.ResponseWriter, r *http.Request) {
	err := a.auth.RequestPasswordReset(r.Context(), strings.TrimSpace(r.PostFormValue("email")), a.client(r))
	if errors.Is(err, auth.ErrRateLimited) {
		a.render(w, r, http.StatusTooManyRequests, "forgot", view{Title: "Forgot your password?", Error: "Too many requests. Please wait a few minutes."})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "forgot", view{Title: "Forgot your password?",
		Notice: a.mailNotice("If an account has this address, we have emailed it a reset link", readerSignedOut)})
}

func (a *App) resetPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "reset", view{Title: "Choose a new password", Data: ""})
}

func (a *App) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	err := a.auth.ResetPassword(r.Context(), token, r.PostFormValue("password"), a.client(r))
	var pe *password.PolicyError
	switch {
	case errors.As(err, &pe): // the token is still good: keep it in the form
		a.render(w, r, http.StatusUnprocessableEntity, "reset", view{Title: "Choose a new password",
			Error: "Please choose another password: " + describePolicyError(err), Data: token})
	case errors.Is(err, auth.ErrInvalidResetToken):
		a.render(w, r, http.StatusUnprocessableEntity, "reset", view{Title: "Choose a new password", Error: "This reset link is invalid or has expired. Ask for a new one."})
	case err != nil:
		a.internalError(w, r, err)
	default:
		http.Redirect(w, r, "/signin?reset=1", http.StatusSeeOther)
	}
}

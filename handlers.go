package bulwark

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/internal/trunc"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
)

// maxBody caps every JSON request body: the largest legitimate one (a
// sign-up with a 128-character password) is far below it.
const maxBody = 8 << 10

// Handler returns the JSON endpoints of the account flows, served under
// [Config.PathPrefix] ("/auth" by default); mount it with
// mux.Handle("/auth/", b.Handler()). See "HTTP endpoints" in the package
// documentation for the routes, the request and response bodies, and the
// CSRF rules.
func (b *Bulwark) Handler() http.Handler {
	p := b.cfg.PathPrefix
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+p+"/signup", b.signUp)
	mux.HandleFunc("POST "+p+"/signin", b.signIn)
	mux.HandleFunc("POST "+p+"/signin/mfa", b.signInMFA)
	mux.HandleFunc("POST "+p+"/signin/mfa/email", b.sendSignInCode)
	mux.HandleFunc("POST "+p+"/signout", b.signOut)
	mux.HandleFunc("POST "+p+"/password/reset", b.requestReset)
	mux.HandleFunc("POST "+p+"/password/reset/complete", b.completeReset)
	mux.Handle("POST "+p+"/password/change", b.signedIn(b.changePassword))
	mux.Handle("POST "+p+"/reauth", b.signedIn(b.reauth))
	mux.Handle("GET "+p+"/sessions", b.signedIn(b.listSessions))
	mux.Handle("DELETE "+p+"/sessions", b.signedIn(b.revokeOthers))
	mux.Handle("DELETE "+p+"/sessions/{id}", b.signedIn(b.revokeSession))
	mux.Handle("GET "+p+"/mfa", b.signedIn(b.mfaStatus))
	mux.Handle("POST "+p+"/mfa/totp", b.recent(b.startTOTP))
	mux.Handle("POST "+p+"/mfa/totp/confirm", b.recent(b.confirmFactor(b.MFA.ConfirmTOTP)))
	mux.Handle("DELETE "+p+"/mfa/totp", b.recent(b.removeFactor(mfa.FactorTOTP)))
	mux.Handle("POST "+p+"/mfa/recovery-codes", b.recent(b.regenerateCodes))
	mux.Handle("POST "+p+"/mfa/email", b.recent(b.startEmailFactor))
	mux.Handle("POST "+p+"/mfa/email/confirm", b.recent(b.confirmFactor(b.MFA.ConfirmEmailFactor)))
	mux.Handle("DELETE "+p+"/mfa/email", b.recent(b.removeFactor(mfa.FactorEmail)))
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found")
	})
	return b.guard(mux)
}

// guard applies what every endpoint needs: no caching, the request's client
// in the context (for the audit log), and, for state-changing methods, the
// CSRF checks: Content-Type application/json (a cross-site form cannot send
// it without a CORS preflight, which Bulwark never grants) and a same-origin
// request by Sec-Fetch-Site or Origin (net/http's CrossOriginProtection).
func (b *Bulwark) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type")
				return
			}
			if err := b.origins.Check(r); err != nil {
				writeError(w, http.StatusForbidden, "cross_origin")
				return
			}
		}
		ctx := withClient(r.Context(), client{ip: b.ClientIP.String(r), userAgent: userAgent(r)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// signedIn serves h only with a live session, and answers 401 otherwise.
func (b *Bulwark) signedIn(h func(http.ResponseWriter, *http.Request, session.Session)) http.Handler {
	return b.Sessions.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := session.FromContext(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated")
			return
		}
		h(w, r, s)
	}))
}

// recent is signedIn for changes of the second factors: the session's last
// authentication must be recent (auth's RequireRecentAuth with
// "change_mfa"; POST /reauth renews it), else 403 "reauth_required".
func (b *Bulwark) recent(h func(http.ResponseWriter, *http.Request, session.Session)) http.Handler {
	return b.signedIn(func(w http.ResponseWriter, r *http.Request, s session.Session) {
		if err := b.Auth.RequireRecentAuth(s.AuthTime, "change_mfa"); err != nil {
			writeError(w, http.StatusForbidden, "reauth_required")
			return
		}
		h(w, r, s)
	})
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code string `json:"code"` // stable, for programs
	// Violations lists the password policy rules a new password broke
	// (code "password_policy").
	Violations []string `json:"violations,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// accepted answers 202 {"status": "accepted"}: the request was taken, and
// the answer says nothing more (whether an address exists, whether a code
// was mailed).
func accepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, struct {
		Status string `json:"status"`
	}{"accepted"})
}

func writeError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, errorBody{apiError{Code: code}})
}

// decode reads a JSON body into v: at most maxBody bytes, unknown fields
// and trailing data refused. It answers the client itself and returns
// false on failure.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large")
		} else {
			writeError(w, http.StatusBadRequest, "invalid_json")
		}
		return false
	}
	return true
}

// fail answers an error from a flow. Known errors get their stable code;
// anything else is a system failure: a bare 500 "internal", the cause to
// Config.OnError only.
func (b *Bulwark) failed(w http.ResponseWriter, r *http.Request, err error) {
	var pe *password.PolicyError
	switch {
	case errors.As(err, &pe):
		v := make([]string, len(pe.Violations))
		for i, x := range pe.Violations {
			v[i] = string(x.Code)
		}
		writeJSON(w, http.StatusBadRequest, errorBody{apiError{Code: "password_policy", Violations: v}})
		return
	case errors.Is(err, auth.ErrInvalidCredentials):
		writeError(w, http.StatusUnauthorized, "invalid_credentials")
	case errors.Is(err, auth.ErrRateLimited):
		writeError(w, http.StatusTooManyRequests, "rate_limited")
	case errors.Is(err, session.ErrLimit):
		// Only after a right password (and second factor): the
		// single-session rule refused a second session.
		writeError(w, http.StatusConflict, "session_limit")
	case errors.Is(err, auth.ErrMFAAttemptsExhausted):
		writeError(w, http.StatusUnauthorized, "mfa_attempts_exhausted")
	case errors.As(err, new(*auth.MFALockedError)), errors.Is(err, mfa.ErrLocked):
		writeError(w, http.StatusTooManyRequests, "mfa_locked")
	case errors.Is(err, auth.ErrInvalidCode), errors.Is(err, mfa.ErrInvalidCode), errors.Is(err, mfa.ErrReplay), errors.Is(err, mfa.ErrNoCode):
		writeError(w, http.StatusUnauthorized, "invalid_code")
	case errors.Is(err, auth.ErrCodeRequired):
		writeError(w, http.StatusUnauthorized, "code_required")
	case errors.Is(err, auth.ErrInvalidPending), errors.Is(err, auth.ErrBindingRequired):
		writeError(w, http.StatusUnauthorized, "invalid_pending")
	case errors.Is(err, auth.ErrInvalidResetToken):
		writeError(w, http.StatusBadRequest, "invalid_reset_token")
	case errors.Is(err, auth.ErrInvalidName), errors.Is(err, mfa.ErrInvalidInput):
		writeError(w, http.StatusBadRequest, "invalid_input")
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		writeError(w, http.StatusConflict, "already_enrolled")
	case errors.Is(err, mfa.ErrNotEnrolled):
		writeError(w, http.StatusConflict, "not_enrolled")
	case errors.Is(err, mfa.ErrThrottled):
		writeError(w, http.StatusTooManyRequests, "retry_later")
	case errors.Is(err, session.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found")
	default:
		b.fail(r.Context(), err)
		writeError(w, http.StatusInternalServerError, "internal")
	}
}

func (b *Bulwark) authClient(r *http.Request, binding string) auth.Client {
	return auth.Client{IP: b.ClientIP.String(r), UserAgent: userAgent(r), Binding: binding}
}

// maxUserAgent bounds the User-Agent kept with sessions and passed to
// events: the client chooses it (up to net/http's 1 MB of headers), and
// audit keeps 512 bytes of it too.
const maxUserAgent = 512

// userAgent is the request's User-Agent, cut to maxUserAgent bytes on a
// character boundary.
func userAgent(r *http.Request) string { return trunc.UTF8(r.UserAgent(), maxUserAgent) }

// Cookies of the sign-in in progress, apart from the session cookie.
const (
	bindingCookie = "bulwark-binding" // pre-login browser binding (auth's Client.Binding)
	pendingCookie = "bulwark-pending" // the pending-MFA token between the two steps
)

func (b *Bulwark) cookieName(base string) string {
	if b.cfg.Session.InsecureDevCookie {
		return base
	}
	return "__Host-" + base
}

func (b *Bulwark) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	// Secure is false only with Session.InsecureDevCookie, named for it.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: see above
		Name: b.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		Secure: !b.cfg.Session.InsecureDevCookie, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// binding returns the browser's pre-login binding, from its own HttpOnly
// cookie (set here when missing). auth stores only a hash over it, so the
// pending-MFA state can be completed by this browser alone.
func (b *Bulwark) binding(w http.ResponseWriter, r *http.Request) (string, error) {
	v := cookie(r, b.cookieName(bindingCookie))
	if len(v) < 32 || len(v) > 64 {
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", fmt.Errorf("bulwark: binding: %w", err)
		}
		v = base64.RawURLEncoding.EncodeToString(raw[:])
		b.setCookie(w, bindingCookie, v, 0)
	}
	h := sha256.Sum256([]byte("bulwark/binding/v1\x00" + v))
	return hex.EncodeToString(h[:]), nil
}

// existingBinding is binding for the second step: no cookie, no binding.
func (b *Bulwark) existingBinding(r *http.Request) string {
	v := cookie(r, b.cookieName(bindingCookie))
	if v == "" {
		return ""
	}
	h := sha256.Sum256([]byte("bulwark/binding/v1\x00" + v))
	return hex.EncodeToString(h[:])
}

func (b *Bulwark) pendingTTL() time.Duration {
	if b.cfg.Auth.PendingTTL > 0 {
		return b.cfg.Auth.PendingTTL
	}
	return auth.DefaultPendingTTL
}

// signInResult is the body of a successful sign-in step.
type signInResult struct {
	// Next is "done" (signed in, the session cookie is set), "mfa" (post
	// the second factor to /signin/mfa) or "enroll_mfa" (a second factor is
	// required and the user has none).
	Next string `json:"next"`
}

// issued finishes a sign-in step: the session cookie through session's
// own cookie code, or the pending-MFA cookie.
func (b *Bulwark) issued(w http.ResponseWriter, res auth.LoginResult) {
	switch res.Next {
	case auth.StepDone:
		b.Sessions.SetCookie(w, res.Session.Token)
		b.setCookie(w, pendingCookie, "", -1)
		writeJSON(w, http.StatusOK, signInResult{Next: "done"})
	default:
		b.setCookie(w, pendingCookie, res.PendingToken, int(b.pendingTTL()/time.Second))
		next := "mfa"
		if res.Next == auth.StepEnrollMFA {
			next = "enroll_mfa"
		}
		writeJSON(w, http.StatusOK, signInResult{Next: next})
	}
}

// endBrowserSession ends the session the request carries, if any, before
// a sign-in: a new sign-in replaces this browser's session (no fixation,
// ASVS 5.0 7.2.4), and the single-session rule does not count it.
func (b *Bulwark) endBrowserSession(ctx context.Context, r *http.Request) error {
	t := cookie(r, b.Sessions.Config().CookieName)
	if t == "" {
		return nil
	}
	if err := b.Sessions.Destroy(ctx, t); err != nil && !errors.Is(err, session.ErrNotFound) {
		return err
	}
	return nil
}

type signUpRequest struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

// signUp answers 202 whether or not the address was registered (auth's
// Register notifies the owner instead), so sign-up cannot enumerate.
func (b *Bulwark) signUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if !decode(w, r, &req) {
		return
	}
	if err := b.allowSignUp(r.Context(), b.ClientIP.Addr(r)); err != nil {
		b.failed(w, r, err)
		return
	}
	err := b.Auth.Register(r.Context(), auth.Registration{FirstName: req.FirstName, LastName: req.LastName,
		Email: req.Email, Password: req.Password}, b.authClient(r, ""))
	if err != nil {
		b.failed(w, r, err)
		return
	}
	accepted(w)
}

// Defaults of auth's IPLimit and IPWindow, which sign-up shares.
const (
	defaultIPLimit  = 100
	defaultIPWindow = 15 * time.Minute
)

// allowSignUp counts a sign-up against the client's address (IPv6: its
// /64) and returns auth.ErrRateLimited past Config.Auth.IPLimit in
// IPWindow. Each sign-up costs an argon2id hash (the hasher's slots are
// shared with sign-in) and a mail to an address the client chose, and
// auth's Register bounds neither. The count comes before the address is
// looked at, so the answer says nothing about it.
func (b *Bulwark) allowSignUp(ctx context.Context, ip netip.Addr) error {
	if !ip.IsValid() {
		return nil // no address to count, as auth's own IP limits
	}
	ip = ip.Unmap()
	key := ip.String()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		key = p.String()
	}
	limit, window := b.cfg.Auth.IPLimit, b.cfg.Auth.IPWindow
	if limit <= 0 {
		limit = defaultIPLimit
	}
	if window <= 0 {
		window = defaultIPWindow
	}
	n, err := b.deps.Auth.AddHits(ctx, "bulwark-signup-ip:"+key, b.cfg.Now().UTC(), window, 1)
	if err != nil {
		return fmt.Errorf("bulwark: sign-up limit: %w", err)
	}
	if n > limit {
		return auth.ErrRateLimited
	}
	return nil
}

type signInRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (b *Bulwark) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if !decode(w, r, &req) {
		return
	}
	binding, err := b.binding(w, r)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	if err := b.endBrowserSession(r.Context(), r); err != nil {
		b.failed(w, r, err)
		return
	}
	res, err := b.Auth.Login(r.Context(), req.Login, req.Password, b.authClient(r, binding))
	if err != nil {
		b.failed(w, r, err)
		return
	}
	b.issued(w, res)
}

type codeRequest struct {
	Code string `json:"code"`
}

func (b *Bulwark) signInMFA(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := b.Auth.CompleteMFA(r.Context(), cookie(r, b.cookieName(pendingCookie)), req.Code, b.authClient(r, b.existingBinding(r)))
	if err != nil {
		if errors.Is(err, auth.ErrInvalidPending) || errors.Is(err, auth.ErrMFAAttemptsExhausted) {
			b.setCookie(w, pendingCookie, "", -1)
		}
		b.failed(w, r, err)
		return
	}
	b.issued(w, res)
}

// sendSignInCode mails an emailed sign-in code to the user of the pending
// sign-in. Asking takes one of the pending state's attempts, so codes
// cannot be requested more often than they can be guessed. The answer is
// 202 whether or not the user turned emailed codes on.
func (b *Bulwark) sendSignInCode(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !decode(w, r, &req) {
		return
	}
	if b.deps.Mailer == nil && b.cfg.MFA.Sender == nil {
		writeError(w, http.StatusNotImplemented, "unavailable")
		return
	}
	ctx := r.Context()
	tok := cookie(r, b.cookieName(pendingCookie))
	h := sha256.Sum256([]byte(tok))
	maxAttempts := b.cfg.Auth.MaxMFAAttempts
	if maxAttempts <= 0 {
		maxAttempts = auth.DefaultMaxMFAAttempts
	}
	p, err := b.deps.Auth.AttemptPending(ctx, h[:], b.cfg.Now().UTC(), maxAttempts)
	if errors.Is(err, auth.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "invalid_pending")
		return
	}
	if err != nil {
		b.failed(w, r, err)
		return
	}
	u, err := b.deps.Users.FindUser(ctx, auth.ByID, p.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	if err := b.MFA.SendLoginCode(ctx, u.ID, u.Email); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
		b.failed(w, r, err)
		return
	}
	accepted(w)
}

func (b *Bulwark) signOut(w http.ResponseWriter, r *http.Request) {
	if err := b.Sessions.Logout(w, r); err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type resetRequest struct {
	Email string `json:"email"`
}

// requestReset answers 202 whether or not the address is registered.
func (b *Bulwark) requestReset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if !decode(w, r, &req) {
		return
	}
	if b.deps.Mailer == nil {
		writeError(w, http.StatusNotImplemented, "unavailable")
		return
	}
	if err := b.Auth.RequestPasswordReset(r.Context(), req.Email, b.authClient(r, "")); err != nil {
		b.failed(w, r, err)
		return
	}
	accepted(w)
}

type completeResetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (b *Bulwark) completeReset(w http.ResponseWriter, r *http.Request) {
	var req completeResetRequest
	if !decode(w, r, &req) {
		return
	}
	if b.deps.Mailer == nil {
		writeError(w, http.StatusNotImplemented, "unavailable")
		return
	}
	if err := b.Auth.ResetPassword(r.Context(), req.Token, req.Password, b.authClient(r, "")); err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type changePasswordRequest struct {
	Current          string `json:"current"`
	New              string `json:"new"`
	EndOtherSessions bool   `json:"end_other_sessions"`
}

func (b *Bulwark) changePassword(w http.ResponseWriter, r *http.Request, s session.Session) {
	var req changePasswordRequest
	if !decode(w, r, &req) {
		return
	}
	err := b.Auth.ChangePassword(r.Context(), auth.PasswordChange{UserID: s.UserID, Current: req.Current, New: req.New,
		EndOtherSessions: req.EndOtherSessions, CurrentSessionID: s.ID}, b.authClient(r, ""))
	if err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type reauthRequest struct {
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// reauth proves the user's factors again and records it on the session
// (a new token, a fresh AuthTime), which the factor endpoints require.
func (b *Bulwark) reauth(w http.ResponseWriter, r *http.Request, s session.Session) {
	var req reauthRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := b.Auth.Reauthenticate(r.Context(), auth.Reauth{UserID: s.UserID, Password: req.Password, Code: req.Code}, b.authClient(r, ""))
	if err != nil {
		b.failed(w, r, err)
		return
	}
	if _, err := b.Sessions.StepUp(w, r, res.Factors); err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sessionView is one entry of GET /sessions.
type sessionView struct {
	ID        string    `json:"id"`
	Current   bool      `json:"current"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Factors   []string  `json:"factors"`
}

func (b *Bulwark) listSessions(w http.ResponseWriter, r *http.Request, s session.Session) {
	list, err := b.Sessions.List(r.Context(), s.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	out := make([]sessionView, len(list))
	for i, x := range list {
		out[i] = sessionView{ID: x.ID, Current: x.ID == s.ID, CreatedAt: x.CreatedAt, LastSeen: x.LastSeen,
			ExpiresAt: x.ExpiresAt, IP: x.IP, UserAgent: x.UserAgent, Factors: x.Factors}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionView `json:"sessions"`
	}{out})
}

func (b *Bulwark) revokeSession(w http.ResponseWriter, r *http.Request, s session.Session) {
	if err := b.Sessions.Revoke(r.Context(), s.UserID, r.PathValue("id")); err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (b *Bulwark) revokeOthers(w http.ResponseWriter, r *http.Request, s session.Session) {
	n, err := b.Sessions.RevokeAll(r.Context(), s.UserID, s.ID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Ended int `json:"ended"`
	}{n})
}

// mfaView is the body of GET /mfa.
type mfaView struct {
	TOTP          string `json:"totp"` // "none", "pending" or "active"
	Email         bool   `json:"email"`
	RecoveryCodes int    `json:"recovery_codes"`
}

func (b *Bulwark) mfaStatus(w http.ResponseWriter, r *http.Request, s session.Session) {
	st, err := b.MFA.Status(r.Context(), s.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	v := mfaView{TOTP: "none", Email: st.Email, RecoveryCodes: st.RecoveryCodes}
	switch {
	case st.TOTP:
		v.TOTP = "active"
	case st.TOTPPending:
		v.TOTP = "pending"
	}
	writeJSON(w, http.StatusOK, v)
}

// totpView is the body of POST /mfa/totp: what the page shows to enrol an
// authenticator app.
type totpView struct {
	URI       string    `json:"uri"`
	Secret    string    `json:"secret"`
	QRCodePNG []byte    `json:"qr_code_png"` // base64 in JSON
	ExpiresAt time.Time `json:"expires_at"`
}

func (b *Bulwark) user(ctx context.Context, id string) (auth.User, error) {
	return b.deps.Users.FindUser(ctx, auth.ByID, id)
}

func (b *Bulwark) startTOTP(w http.ResponseWriter, r *http.Request, s session.Session) {
	var req struct{}
	if !decode(w, r, &req) {
		return
	}
	u, err := b.user(r.Context(), s.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	name := u.Email
	if name == "" {
		name = u.Username
	}
	en, err := b.MFA.EnrollTOTP(r.Context(), s.UserID, name)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, totpView{URI: en.URI, Secret: en.Secret, QRCodePNG: en.QRCodePNG, ExpiresAt: en.Expires})
}

// mfaChanged audits and notifies a factor change (auth's MFAChanged).
func (b *Bulwark) mfaChanged(w http.ResponseWriter, r *http.Request, userID string, enabled bool) {
	if err := b.Auth.MFAChanged(r.Context(), userID, enabled, b.authClient(r, "")); err != nil {
		b.failed(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// confirmFactor turns a factor on with the code it sent or shows (mfa's
// ConfirmTOTP or ConfirmEmailFactor), then audits and notifies the change.
func (b *Bulwark) confirmFactor(confirm func(ctx context.Context, userID, code string) error) func(http.ResponseWriter, *http.Request, session.Session) {
	return func(w http.ResponseWriter, r *http.Request, s session.Session) {
		var req codeRequest
		if !decode(w, r, &req) {
			return
		}
		if err := confirm(r.Context(), s.UserID, req.Code); err != nil {
			b.failed(w, r, err)
			return
		}
		b.mfaChanged(w, r, s.UserID, true)
	}
}

// removeFactor turns a factor off (mfa's Remove),
// then audits and notifies the change.
func (b *Bulwark) removeFactor(f mfa.Factor) func(http.ResponseWriter, *http.Request, session.Session) {
	return func(w http.ResponseWriter, r *http.Request, s session.Session) {
		if err := b.MFA.Remove(r.Context(), s.UserID, f); err != nil {
			b.failed(w, r, err)
			return
		}
		b.mfaChanged(w, r, s.UserID, false)
	}
}

func (b *Bulwark) regenerateCodes(w http.ResponseWriter, r *http.Request, s session.Session) {
	var req struct{}
	if !decode(w, r, &req) {
		return
	}
	codes, err := b.MFA.GenerateRecoveryCodes(r.Context(), s.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	if err := b.Auth.MFAChanged(r.Context(), s.UserID, true, b.authClient(r, "")); err != nil {
		b.failed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Codes []string `json:"codes"`
	}{codes})
}

func (b *Bulwark) startEmailFactor(w http.ResponseWriter, r *http.Request, s session.Session) {
	var req struct{}
	if !decode(w, r, &req) {
		return
	}
	if b.deps.Mailer == nil && b.cfg.MFA.Sender == nil {
		writeError(w, http.StatusNotImplemented, "unavailable")
		return
	}
	u, err := b.user(r.Context(), s.UserID)
	if err != nil {
		b.failed(w, r, err)
		return
	}
	if err := b.MFA.StartEmailFactor(r.Context(), s.UserID, u.Email); err != nil {
		b.failed(w, r, err)
		return
	}
	accepted(w)
}

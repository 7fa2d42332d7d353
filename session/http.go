package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

type ctxKey struct{}

// FromContext returns the session [Manager.Middleware] loaded for the
// request, and false outside the middleware.
func FromContext(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	if !ok {
		return Session{}, false
	}
	return *s, true
}

// NewContext returns ctx carrying s, as the middleware does; hosts use it in
// their own handler tests.
func NewContext(ctx context.Context, s Session) context.Context {
	return &sessionCtx{Context: ctx, s: s}
}

// sessionCtx carries a session in one allocation, where context.WithValue
// plus a pointer to the session would take two.
type sessionCtx struct {
	context.Context
	s Session
}

func (c *sessionCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return &c.s
	}
	return c.Context.Value(key)
}

func (m *Manager) fail(ctx context.Context, err error) {
	if m.onError != nil {
		m.onError(ctx, err)
	}
}

// cookieValue returns the value of the named cookie without the
// allocations of http.Request.Cookie, or "".
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				return part[len(name)+1:]
			}
		}
	}
	return ""
}

// Middleware loads the session named by the request's cookie into the
// request context (read it with [FromContext]), recording activity at most
// once per [Config.TouchInterval], and calls next. A request without a
// live session goes to [Config.Unauthenticated] instead, after the stale
// cookie is cleared. With remember-me enabled, a request whose session is
// gone but which carries a remember-me cookie resumes a new session first,
// with a new remember-me token of the same family (see "Remember me" in
// the package documentation).
//
// It fails closed: a store error sends the request to Unauthenticated and
// the error to [Config.OnError]; it is never served as logged in.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return m.middleware(next, m.unauth)
}

// Optional is [Manager.Middleware] for pages that serve visitors too (a
// home page that shows "log in" or the user's name): a request without a
// live session, or whose store lookup failed, goes to next without a
// session in its context instead of to [Config.Unauthenticated]. Store
// errors still go to [Config.OnError].
func (m *Manager) Optional(next http.Handler) http.Handler {
	return m.middleware(next, next)
}

func (m *Manager) middleware(next, unauth http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token := cookieValue(r, m.cookie)
		stale := false
		if token != "" {
			s, err := m.Validate(ctx, token)
			if err == nil {
				next.ServeHTTP(w, r.WithContext(NewContext(ctx, s)))
				return
			}
			if !errors.Is(err, ErrNotFound) {
				m.fail(ctx, err)
				unauth.ServeHTTP(w, r)
				return
			}
			stale = true
		}
		if m.remember {
			if rt := cookieValue(r, m.remName); rt != "" {
				iss, err := m.resume(ctx, rt, m.requestLogin(r))
				if iss.RememberToken != "" {
					m.setRememberCookie(w, iss)
				}
				switch {
				case err == nil:
					m.setSessionCookie(w, iss.Token)
					next.ServeHTTP(w, r.WithContext(NewContext(ctx, iss.Session)))
					return
				case errors.Is(err, ErrNotFound), errors.Is(err, ErrReused):
					m.clearCookie(w, m.remName)
				case errors.Is(err, ErrLimit):
				default:
					m.fail(ctx, err)
				}
			}
		}
		if stale {
			m.clearCookie(w, m.cookie)
		}
		unauth.ServeHTTP(w, r)
	})
}

func (m *Manager) requestLogin(r *http.Request) Login {
	return Login{IP: m.ip.String(r), UserAgent: r.UserAgent()}
}

// Login starts a session for userID after the host (or a sign-in flow such
// as Bulwark's composition package) has authenticated the request, and sets
// the cookies: it is the way to start a session over HTTP. A session the request already carried is
// ended in the same step, so the browser never keeps an old token across a
// login (session fixation, ASVS 7.2.4) and the single-session rule does not
// count the session being replaced; if the login is refused
// ([ErrLimit]), that session is left as it was. The request's old
// remember-me family, if any, is revoked. IP and UserAgent are filled from
// the request when l leaves them empty.
func (m *Manager) Login(w http.ResponseWriter, r *http.Request, userID string, l Login) (Issued, error) {
	ctx := r.Context()
	old, hasOld := hashToken(cookieValue(r, m.cookie))
	if l.IP == "" {
		l.IP = m.ip.String(r)
	}
	if l.UserAgent == "" {
		l.UserAgent = r.UserAgent()
	}
	iss, err := m.login(ctx, userID, l, old)
	if hasOld && errors.Is(err, ErrNotFound) {
		// The browser's session is not the user's live one (expired, or
		// another user's): there is nothing to replace in the same step.
		iss, err = m.login(ctx, userID, l, [32]byte{})
	}
	if err != nil {
		return Issued{}, err
	}
	m.setSessionCookie(w, iss.Token)
	if iss.RememberToken != "" {
		m.setRememberCookie(w, iss)
	} else if cookieValue(r, m.remName) != "" {
		m.clearCookie(w, m.remName)
	}
	// The old session belonged to another user if the store did not
	// replace it; the old remember-me family must not outlive the login.
	// The new session is already valid, so failures here go to OnError.
	if hasOld {
		if _, err := m.store.Delete(ctx, old); err != nil && !errors.Is(err, ErrNotFound) {
			m.fail(ctx, storeErr(err))
		}
	}
	if rh, ok := hashToken(cookieValue(r, m.remName)); ok {
		if err := m.store.RevokeRemember(ctx, rh); err != nil && !errors.Is(err, ErrNotFound) {
			m.fail(ctx, storeErr(err))
		}
	}
	return iss, nil
}

// StepUp records a fresh authentication with factors on the request's
// session, after the host has verified them: the session gets a new token
// (ASVS 7.2.4) and AuthTime now. It returns [ErrNotFound] without a live
// session.
func (m *Manager) StepUp(w http.ResponseWriter, r *http.Request, factors []string) (Issued, error) {
	if factors == nil {
		factors = []string{}
	}
	iss, err := m.Rotate(r.Context(), cookieValue(r, m.cookie), factors)
	if err != nil {
		return Issued{}, err
	}
	m.setSessionCookie(w, iss.Token)
	return iss, nil
}

// Logout ends the request's session on the server, and the remember-me
// family of the request's remember-me cookie (even when the session itself
// has already expired), and clears both cookies. A request without a
// session is not an error; a store error is returned (the cookies are
// cleared anyway).
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	m.clearCookie(w, m.cookie)
	m.clearCookie(w, m.remName)
	if t := cookieValue(r, m.cookie); t != "" {
		if err := m.Destroy(r.Context(), t); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if h, ok := hashToken(cookieValue(r, m.remName)); ok {
		if err := m.store.RevokeRemember(r.Context(), h); err != nil && !errors.Is(err, ErrNotFound) {
			return storeErr(err)
		}
	}
	return nil
}

// LogoutHandler is a logout endpoint: POST only, refused when cross-origin
// (so another site cannot log users out), it ends the session like
// [Manager.Logout] and answers 204 No Content. Store errors go to
// [Config.OnError] and answer 500. For the tab-close beacon use
// [Manager.CloseHandler] instead.
func (m *Manager) LogoutHandler() http.Handler {
	return m.postAction(func(w http.ResponseWriter, r *http.Request) error { return m.Logout(w, r) })
}

// postAction is a same-origin POST endpoint that runs act and answers 204
// No Content, or 500 after [Config.OnError] when act fails.
func (m *Manager) postAction(act func(http.ResponseWriter, *http.Request) error) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if err := act(w, r); err != nil {
			m.fail(r.Context(), err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return http.NewCrossOriginProtection().Handler(h)
}

// CloseHandler is the endpoint of the tab-close beacon: POST only, refused
// when cross-origin, it marks the request's session as closing and answers
// 204 No Content, also when there is no live session. It leaves the
// cookies alone. A store error while marking goes to [Config.OnError] and
// answers 500.
//
// # Logging out when the tab closes
//
// Browsers give no reliable "tab closed" event. pagehide fires when a tab
// closes, but also on reload, Back and Forward, and a beacon that ended
// the session there would sign the user out on F5. So the beacon only
// marks the session: it ends [Config.CloseGrace] later (10 seconds by
// default) unless a request with its cookie arrives first, which clears
// the mark. A reload, a Back or Forward sends such a request (a page that
// polls [Manager.TimeLeftHandler] does so as soon as it loads); closing
// the last tab sends none, and the session ends within the grace. Other
// tabs of the site still open share the session, so they must ask within
// the grace too, sooner than a banner poll usually does: have the closing
// page tell them (a BroadcastChannel message next to the beacon) and have
// them poll a second or so later, once the beacon has arrived, as
// examples/webapp does. The mark is stored, so it holds across
// instances, and it only ever brings the expiry nearer: a session never
// outlives its idle or absolute limit because of it.
//
//	addEventListener("pagehide", (e) => {
//	  if (!e.persisted) navigator.sendBeacon("/session/close");
//	});
//
// sendBeacon sends a same-origin POST with the cookies, which this handler
// accepts. The session cookie has no Max-Age or Expires, so it dies with
// the browser too. Store errors go to [Config.OnError] and answer 500.
func (m *Manager) CloseHandler() http.Handler {
	return m.postAction(func(_ http.ResponseWriter, r *http.Request) error {
		if err := m.markClosing(r.Context(), cookieValue(r, m.cookie)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
}

// timeLeftBody is the body of [Manager.TimeLeftHandler]'s answer.
type timeLeftBody struct {
	IdleSeconds     int64 `json:"idle_seconds"`     // until logout for inactivity
	AbsoluteSeconds int64 `json:"absolute_seconds"` // until the session's hard end
}

// TimeLeftHandler answers GET with JSON for the request's session,
//
//	{"idle_seconds": 420, "absolute_seconds": 43020}
//
// (whole seconds until logout for inactivity, and until the session's hard
// end), without recording activity, so that a page can poll it to show
// an "expiring soon" banner (NIST SP 800-63B suggests a warning shortly,
// about 2 minutes, before the idle timeout) without keeping the session
// alive. Mount it outside [Manager.Middleware]. Without a live session it
// answers 401; on a store error 500, after [Config.OnError].
func (m *Manager) TimeLeftHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		idle, abs, err := m.timeLeft(r.Context(), cookieValue(r, m.cookie))
		switch {
		case errors.Is(err, ErrNotFound):
			w.WriteHeader(http.StatusUnauthorized)
			return
		case err != nil:
			m.fail(r.Context(), err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(timeLeftBody{IdleSeconds: int64(idle / time.Second), AbsoluteSeconds: int64(abs / time.Second)})
	})
}

// RequireRecentAuth returns middleware, to mount inside
// [Manager.Middleware], that lets a request through only if its session
// passes [Manager.RequireRecent] with maxAge and factors; other requests go
// to stepUp (for example a redirect to a re-authentication page; nil means
// 403 Forbidden).
func (m *Manager) RequireRecentAuth(maxAge time.Duration, stepUp http.Handler, factors ...string) func(http.Handler) http.Handler {
	if stepUp == nil {
		stepUp = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		})
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, ok := FromContext(r.Context())
			if !ok {
				m.unauth.ServeHTTP(w, r)
				return
			}
			if m.RequireRecent(s, maxAge, factors...) != nil {
				stepUp.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (m *Manager) baseCookie(name, value string) *http.Cookie {
	// Secure is false only with Config.InsecureDevCookie, named for it.
	return &http.Cookie{ //nolint:gosec // G124: see above
		Name:     name,
		Value:    value,
		Path:     "/",
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: m.sameSite,
	}
}

// setSessionCookie sets the session cookie with no Max-Age or Expires, so
// it lives only as long as the browser (ASVS 7.3, "closing the browser
// logs out").
func (m *Manager) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, m.baseCookie(m.cookie, token))
}

func (m *Manager) setRememberCookie(w http.ResponseWriter, iss Issued) {
	c := m.baseCookie(m.remName, iss.RememberToken) //nolint:gosec // G124: see baseCookie
	c.MaxAge = max(int(iss.RememberExpires.Sub(m.now())/time.Second), 1)
	http.SetCookie(w, c)
}

func (m *Manager) clearCookie(w http.ResponseWriter, name string) {
	c := m.baseCookie(name, "") //nolint:gosec // G124: see baseCookie
	c.MaxAge = -1
	http.SetCookie(w, c)
}

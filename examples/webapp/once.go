package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Double submission. Each page render carries a fresh form token in its
// forms (field formTokenField); the first POST that presents it consumes
// it, and a second POST of the same form (a double click, a retried
// request, the back button and "submit" again) is refused with 409 before
// any handler runs: a client is not created twice, an export not started
// twice. The page script also disables a form's buttons once it is sent.
//
// Tokens are a random nonce and its HMAC under a per-process key, so only
// tokens this process issued are remembered, and the memory they take is
// bounded (onceCapacity, onceTTL). A form without a token (a script, a page
// from another instance) is served as before: this guards people against
// accidents; cross-site forgery is CrossOriginProtection's job.

const (
	formTokenField = "form_token"
	onceTTL        = time.Hour // a form left open longer may be sent again
	onceCapacity   = 100_000   // remembered tokens; the oldest go first
)

type onceGuard struct {
	key []byte
	now func() time.Time
	mu  sync.Mutex
	set map[string]struct{}
	q   []onceEntry // in the order used, for expiry
}

type onceEntry struct {
	token string
	at    time.Time
}

func newOnceGuard(now func() time.Time) *onceGuard {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return &onceGuard{key: key, now: now, set: map[string]struct{}{}}
}

func (g *onceGuard) mac(nonce string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// issue returns a new token for a page's forms.
func (g *onceGuard) issue() string {
	nonce := rand.Text()
	return nonce + "." + g.mac(nonce)
}

// use consumes token and says whether it had been used already. Tokens
// this process did not issue are ignored (reported as not used).
func (g *onceGuard) use(token string) (again bool) {
	nonce, sum, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sum), []byte(g.mac(nonce))) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, seen := g.set[token]; seen {
		return true
	}
	now := g.now()
	for len(g.q) > 0 && (len(g.q) >= onceCapacity || now.Sub(g.q[0].at) > onceTTL) {
		delete(g.set, g.q[0].token)
		g.q = g.q[1:]
	}
	g.set[token] = struct{}{}
	g.q = append(g.q, onceEntry{token, now})
	return false
}

// forget releases token, so that the form may be sent again.
func (g *onceGuard) forget(token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.set, token) // its queue entry goes with expiry, harmlessly
}

// onceOnly refuses a POST whose form token was used before. It runs after
// limitBody, which has parsed the form. A submission that was refused (an
// answer of 400 or more: a wrong password, a field too long) or sent to
// the sign-in page (the session had ended) did nothing, so its token is
// released: sending the form again, corrected or after signing in, is not
// "already handled".
func (a *App) onceOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := ""
		if r.Method == http.MethodPost && r.PostForm != nil {
			tok = r.PostForm.Get(formTokenField)
		}
		if tok == "" {
			next.ServeHTTP(w, r)
			return
		}
		if a.once.use(tok) {
			w.Header().Set("Cache-Control", "no-store")
			a.render(w, r, http.StatusConflict, "resubmitted", view{Title: "Already sent",
				Error: "This form was already sent, and the first submission was handled: nothing was done twice."})
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status >= http.StatusBadRequest || rec.toSignin {
			a.once.forget(tok)
		}
	})
}

// statusRecorder notes a response's status, and whether it redirects to
// the sign-in page.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	toSignin bool
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	if code >= 300 && code < 400 && strings.HasPrefix(s.Header().Get("Location"), "/signin") {
		s.toSignin = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

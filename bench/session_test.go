package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// Both benchmarks serve one authenticated request end to end through the
// library's middleware, with its in-memory store: read the cookie, load the
// session, put it in the request context, call a handler that reads the
// user id, write the response headers. Compare them in one run (see
// README.md). The ResponseWriter is the same minimal, reused one for both,
// so that what is measured is the middleware, not httptest.ResponseRecorder
// (which costs about as much as Bulwark's whole middleware).

func BenchmarkSessionMiddleware_Bulwark(b *testing.B) {
	m, err := session.New(memstore.NewSessionStore(), session.Config{})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := m.Create(context.Background(), "user-42", session.Login{Factors: []string{"password"}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := session.FromContext(r.Context())
		if !ok || s.UserID != "user-42" {
			b.Fatal("no session")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.AddCookie(&http.Cookie{Name: m.Config().CookieName, Value: iss.Token})
	benchServe(b, h, r)
}

func BenchmarkSessionMiddleware_SCS(b *testing.B) {
	sm := scs.New() // memstore, as scs defaults
	sm.Cookie.Secure = true
	login := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "userID", "user-42")
		w.WriteHeader(http.StatusNoContent)
	}))
	lw := httptest.NewRecorder()
	login.ServeHTTP(lw, httptest.NewRequest(http.MethodPost, "https://app.example/login", nil))
	cookies := lw.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatal("scs set no cookie")
	}
	h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "userID") != "user-42" {
			b.Fatal("no session")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.AddCookie(cookies[0])
	benchServe(b, h, r)
}

// discardWriter is a ResponseWriter that keeps only the status and the
// headers, reset before each request.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
		if w.code != http.StatusNoContent {
			b.Fatalf("status %d", w.code)
		}
	}
}

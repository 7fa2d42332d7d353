package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// Validation on memstore when no refresh is due: the target is at most
// 1 µs and 4 allocations.
func BenchmarkValidate(b *testing.B) {
	sessiontest.BenchmarkValidate(b, memstore.NewSessionStore())
}

// The middleware end to end with httptest: cookie, validation, context,
// handler.
func BenchmarkMiddleware(b *testing.B) {
	c := newClock()
	m := mustNew(b, memstore.NewSessionStore(), session.Config{Now: c.Now})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := session.FromContext(r.Context()); !ok {
			b.Fatal("no session")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.AddCookie(&http.Cookie{Name: m.Config().CookieName, Value: iss.Token})
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// The allocation budget of validation holds (allocations, not time, so this
// is stable on a noisy machine).
func TestValidateAllocs(t *testing.T) {
	c := newClock()
	m := mustNew(t, memstore.NewSessionStore(), session.Config{Now: c.Now})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Fatalf("Validate makes %.0f allocations, budget 4", allocs)
	}
}

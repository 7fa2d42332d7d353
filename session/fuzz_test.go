package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// FuzzCookieHeader feeds arbitrary Cookie headers to the middleware: it
// must never panic, and must let a request through only if the header
// carries the one valid token under the session cookie's name.
func FuzzCookieHeader(f *testing.F) {
	m := mustNew(f, memstore.NewSessionStore(), session.Config{RememberMe: true})
	iss, err := m.Create(ctx, "u1", session.Login{Remember: true})
	if err != nil {
		f.Fatal(err)
	}
	name := m.Config().CookieName
	for _, seed := range []string{
		name + "=" + iss.Token,
		"a=b; " + name + "=" + iss.Token + "; c=d",
		name + "=" + iss.Token[:42],
		name + "=" + strings.ToUpper(iss.Token),
		name + "=\"" + iss.Token + "\"",
		m.Config().CookieName + "-remember" + "=" + iss.RememberToken[:42] + "A",
		"", ";;;", name + "=", name, "=" + iss.Token,
	} {
		f.Add(seed)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	f.Fuzz(func(t *testing.T, header string) {
		if strings.Contains(header, iss.RememberToken) {
			return // resuming from the valid remember-me token is allowed
		}
		r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		r.Header.Set("Cookie", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusNoContent && !strings.Contains(header, iss.Token) {
			t.Fatalf("header %q authenticated without the token", header)
		}
		if _, ok := session.HashToken(header); ok && len(header) != 43 {
			t.Fatalf("HashToken accepted %q", header)
		}
	})
}

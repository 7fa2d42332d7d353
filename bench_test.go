package bulwark_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/session"
)

// BenchmarkSignIn compares a password sign-in through the JSON handler
// (CSRF checks, decoding, binding cookie, ending the browser's previous
// session, auth's flow, the cookie) with the same flow called on auth
// directly (Login, then ending the previous session so the single-session
// rule admits the next). Both use cheap hash parameters, so that the
// argon2id cost does not hide the overhead.
func BenchmarkSignIn(b *testing.B) {
	e := newEnv(b, nil)
	br := e.browser(b, "192.0.2.10")
	r := br.do("POST", "/auth/signup", map[string]string{"first_name": "Jan", "last_name": "Kowalski", "email": "jan@example.com", "password": testPassword})
	if r.status != http.StatusAccepted {
		b.Fatal(r.body)
	}
	userID := e.mail.notes[0].UserID
	// fresh ends every session of the user, so that each run (and each
	// -count repetition) starts under the single-session rule with none.
	fresh := func(b *testing.B) {
		if _, err := e.b.Sessions.RevokeAll(context.Background(), userID, ""); err != nil {
			b.Fatal(err)
		}
		delete(br.cookies, e.b.Sessions.Config().CookieName)
	}
	body := `{"login":"jan@example.com","password":"` + testPassword + `"}`
	b.Run("handler", func(b *testing.B) {
		fresh(b)
		b.ReportAllocs()
		for b.Loop() {
			if r := br.do("POST", "/auth/signin", body); r.status != http.StatusOK {
				b.Fatal(r.body)
			}
		}
	})
	b.Run("auth", func(b *testing.B) {
		ctx := context.Background()
		c := auth.Client{IP: "192.0.2.10", UserAgent: "TestBrowser/1.0", Binding: "binding-hash"}
		fresh(b)
		prev := ""
		b.ReportAllocs()
		for b.Loop() {
			if prev != "" {
				if err := e.b.Sessions.Destroy(ctx, prev); err != nil && !errors.Is(err, session.ErrNotFound) {
					b.Fatal(err)
				}
			}
			res, err := e.b.Auth.Login(ctx, "jan@example.com", testPassword, c)
			if err != nil {
				b.Fatal(err)
			}
			prev = res.Session.Token
		}
	})
}

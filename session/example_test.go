package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	m := session.New(memstore.NewSessionStore(), session.Config{
		Now: func() time.Time { return now }, // a real app leaves Now unset
	})

	// The login handler, after the password checked out.
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	if _, err := m.Login(w, r, "alice", session.Login{Factors: []string{"password"}}); err != nil {
		panic(err)
	}
	cookie := w.Result().Cookies()[0]
	fmt.Println("cookie:", cookie.Name, "secure:", cookie.Secure, "httponly:", cookie.HttpOnly, "max-age:", cookie.MaxAge)

	// A protected page.
	page := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.UserID)
	}))
	visit := func() {
		r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	visit()

	// Alice tries to log in from a second device: the single-session rule.
	_, err := m.Create(context.Background(), "alice", session.Login{})
	fmt.Println("second login refused:", errors.Is(err, session.ErrLimit))

	// Eleven minutes without a request: logged out for inactivity.
	now = now.Add(11 * time.Minute)
	visit()
	// Output:
	// cookie: __Host-session secure: true httponly: true max-age: 0
	// 200 hello alice
	// second login refused: true
	// 401
}

func ExampleManager_RequireRecent() {
	m := session.New(memstore.NewSessionStore(), session.Config{})
	iss, err := m.Create(context.Background(), "bob", session.Login{Factors: []string{"password"}})
	if err != nil {
		panic(err)
	}
	// Changing the e-mail address needs a second factor within 5 minutes.
	err = m.RequireRecent(iss.Session, 5*time.Minute, "totp")
	fmt.Println(errors.Is(err, session.ErrStepUp))
	// Output: true
}

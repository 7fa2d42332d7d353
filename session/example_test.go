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
	m, err := session.New(memstore.NewSessionStore(), session.Config{
		Now: func() time.Time { return now }, // a real app leaves Now unset
	})
	if err != nil {
		panic(err)
	}

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
	_, err = m.Create(context.Background(), "alice", session.Login{})
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
	m, err := session.New(memstore.NewSessionStore(), session.Config{}) // all defaults
	if err != nil {
		panic(err)
	}
	iss, err := m.Create(context.Background(), "bob", session.Login{Factors: []string{"password"}})
	if err != nil {
		panic(err)
	}
	// Changing the e-mail address needs a second factor within 5 minutes.
	err = m.RequireRecent(iss.Session, 5*time.Minute, "totp")
	fmt.Println(errors.Is(err, session.ErrStepUp))
	// Output: true
}

// The tab-close beacon marks the session; a reload within the grace keeps
// it, and with no request after the beacon the session ends.
func ExampleManager_CloseHandler() {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	m, err := session.New(memstore.NewSessionStore(), session.Config{
		Now: func() time.Time { return now }, // a real app leaves Now unset
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /session/close", m.CloseHandler()) // navigator.sendBeacon("/session/close") on pagehide
	mux.Handle("/", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.UserID)
	})))
	iss, err := m.Create(context.Background(), "alice", session.Login{Factors: []string{"password"}})
	if err != nil {
		panic(err)
	}
	send := func(method, path string) {
		r := httptest.NewRequest(method, "https://app.example"+path, nil)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.AddCookie(&http.Cookie{Name: m.Config().CookieName, Value: iss.Token})
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Body.Len() == 0 {
			fmt.Println(method, path, w.Code)
			return
		}
		fmt.Println(method, path, w.Code, w.Body.String())
	}

	send(http.MethodPost, "/session/close") // F5: pagehide fires...
	now = now.Add(time.Second)
	send(http.MethodGet, "/") // ...and the reloaded page follows within the grace
	now = now.Add(time.Minute)
	send(http.MethodGet, "/")

	send(http.MethodPost, "/session/close") // the last tab is closed: nothing follows
	now = now.Add(m.Config().CloseGrace)
	send(http.MethodGet, "/")
	// Output:
	// POST /session/close 204
	// GET / 200 hello alice
	// GET / 200 hello alice
	// POST /session/close 204
	// GET / 401
}

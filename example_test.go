package bulwark_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// printMailer prints what it would send, without secrets.
type printMailer struct{ login string }

func (printMailer) SendResetLink(context.Context, auth.ResetLink) error { return nil }
func (printMailer) SendCode(context.Context, mfa.Message) error         { return nil }
func (m *printMailer) Notify(_ context.Context, to string, n auth.Notification) error {
	if n.Type == auth.NotifyAccountCreated {
		m.login = n.Username
	}
	fmt.Printf("mail to %s: %s\n", to, n.Type)
	return nil
}

// Example wires Bulwark over the in-memory stores and signs a user up and
// in through the JSON handlers.
func Example() {
	kek, err := keyring.NewLocalKEK(make([]byte, 32)) // production: keyring.LocalKEKFromEnv
	if err != nil {
		panic(err)
	}
	mail := &printMailer{}
	b, err := bulwark.New(bulwark.Deps{
		Users: memstore.NewUserStore(), Auth: memstore.NewAuthStore(), Sessions: memstore.NewSessionStore(),
		MFA: memstore.NewMFAStore(), Audit: memstore.NewAuditStore(), Keys: memstore.NewKeyringStore(),
		KEK: kek, Mailer: mail,
	}, bulwark.Config{
		// Cheap hashes for the example only: production keeps the zero
		// value, argon2id with password's defaults.
		Password: password.Config{Params: password.Params{Memory: 64, Time: 1, Parallelism: 1}},
	})
	if err != nil {
		panic(err)
	}
	h := b.Handler()
	post := func(path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "https://app.example"+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
		return w
	}
	post("/auth/signup", `{"first_name":"Jan","last_name":"Kowalski","email":"jan@example.com","password":"quiet meadow lantern"}`)
	post("/auth/signin", `{"login":"jan@example.com","password":"not the password"}`)
	post("/auth/signin", `{"login":"NoSuchUser12","password":"not the password"}`)
	w := post("/auth/signin", `{"login":"`+mail.login+`","password":"quiet meadow lantern"}`)
	for _, c := range w.Result().Cookies() {
		if c.Name == b.Sessions.Config().CookieName {
			fmt.Println("session cookie:", c.Name, "HttpOnly", c.HttpOnly, "Secure", c.Secure)
		}
	}
	// Output:
	// mail to jan@example.com: account_created
	// 202 {"status":"accepted"}
	// 401 {"error":{"code":"invalid_credentials"}}
	// 401 {"error":{"code":"invalid_credentials"}}
	// 200 {"next":"done"}
	// session cookie: __Host-session HttpOnly true Secure true
}

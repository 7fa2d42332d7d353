package bulwark_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// outbox is a Mailer that keeps what it is given.
type outbox struct {
	mu     sync.Mutex
	resets []auth.ResetLink
	codes  []mfa.Message
	notes  []auth.Notification
}

func (o *outbox) SendResetLink(_ context.Context, l auth.ResetLink) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.resets = append(o.resets, l)
	return nil
}

func (o *outbox) SendCode(_ context.Context, m mfa.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, m)
	return nil
}

func (o *outbox) Notify(_ context.Context, _ string, n auth.Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.notes = append(o.notes, n)
	return nil
}

// username is the login of the latest account created.
func (o *outbox) username(t *testing.T) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.notes) - 1; i >= 0; i-- {
		if o.notes[i].Type == auth.NotifyAccountCreated {
			return o.notes[i].Username
		}
	}
	t.Fatal("no account_created notification")
	return ""
}

func (o *outbox) lastCode(t *testing.T) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.codes)
	return o.codes[len(o.codes)-1].Code
}

func (o *outbox) lastReset(t *testing.T) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.resets)
	return o.resets[len(o.resets)-1].Token
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// fastHash keeps the tests quick; production uses password's defaults.
var fastHash = password.Config{Params: password.Params{Memory: 64, Time: 1, Parallelism: 1}}

func memDeps(t testing.TB, mail bulwark.Mailer) bulwark.Deps {
	t.Helper()
	kek, err := keyring.NewLocalKEK(make([]byte, 32))
	require.NoError(t, err)
	return bulwark.Deps{Users: memstore.NewUserStore(), Auth: memstore.NewAuthStore(), Sessions: memstore.NewSessionStore(),
		MFA: memstore.NewMFAStore(), Audit: memstore.NewAuditStore(), Keys: memstore.NewKeyringStore(), KEK: kek, Mailer: mail}
}

// env is a wired Bulwark over deps, with a test clock and an outbox.
type env struct {
	b     *bulwark.Bulwark
	h     http.Handler
	clock *clock
	mail  *outbox
	audit *audit.Log
}

func newEnvWith(t testing.TB, deps func(bulwark.Mailer) bulwark.Deps, mod func(*bulwark.Config)) *env {
	t.Helper()
	e := &env{clock: &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}, mail: &outbox{}}
	cfg := bulwark.Config{Password: fastHash, Now: e.clock.Now}
	cfg.Session.InsecureDevCookie = false
	if mod != nil {
		mod(&cfg)
	}
	b, err := bulwark.New(deps(e.mail), cfg)
	require.NoError(t, err)
	e.b, e.h, e.audit = b, b.Handler(), b.Audit
	return e
}

func newEnv(t testing.TB, mod func(*bulwark.Config)) *env {
	t.Helper()
	return newEnvWith(t, func(m bulwark.Mailer) bulwark.Deps { return memDeps(t, m) }, mod)
}

// browser keeps cookies across requests to the handler, as a browser
// would on one site.
type browser struct {
	t       testing.TB
	h       http.Handler
	cookies map[string]string
	ip      string
}

func (e *env) browser(t testing.TB, ip string) *browser {
	return &browser{t: t, h: e.h, cookies: map[string]string{}, ip: ip}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (r response) code() string {
	var v struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(r.body), &v)
	return v.Error.Code
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.body), v), r.body)
}

// do sends a same-origin JSON request (body nil: none, but still the
// JSON content type, as the handlers require for state changes).
func (br *browser) do(method, path string, body any, mods ...func(*http.Request)) response {
	br.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader([]byte("{}"))
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(br.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, "https://app.example"+path, rd)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", "TestBrowser/1.0")
	req.RemoteAddr = br.ip + ":4242"
	for name, v := range br.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for _, m := range mods {
		m(req)
	}
	rec := httptest.NewRecorder()
	br.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(br.cookies, c.Name)
		} else {
			br.cookies[c.Name] = c.Value
		}
	}
	return response{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
}

const testPassword = "quiet meadow lantern"

// signUp registers a user and returns their generated login.
func (e *env) signUp(t testing.TB, br *browser, first, last, email string) string {
	t.Helper()
	r := br.do("POST", "/auth/signup", map[string]string{"first_name": first, "last_name": last, "email": email, "password": testPassword})
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	return e.mail.username(t.(*testing.T))
}

// enrolTOTP re-authenticates br's user and enrols an authenticator app; it
// returns a function computing the current code.
func (e *env) enrolTOTP(t testing.TB, br *browser) func() string {
	t.Helper()
	r := br.do("POST", "/auth/mfa/totp", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	var en struct {
		Secret string `json:"secret"`
	}
	r.decode(t, &en)
	code := func() string {
		c, err := totp.GenerateCodeCustom(en.Secret, e.clock.Now(), totp.ValidateOpts{Digits: 6})
		require.NoError(t, err)
		return c
	}
	r = br.do("POST", "/auth/mfa/totp/confirm", map[string]string{"code": code()})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	e.clock.Add(30 * time.Second) // the next code is a fresh one
	return code
}

var recoveryRe = regexp.MustCompile(`^[A-Za-z0-9-]{13,}$`)

func hasCookie(br *browser, suffix string) bool {
	for n := range br.cookies {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

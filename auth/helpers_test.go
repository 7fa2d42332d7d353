package auth_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeHasher "hashes" as "v1$"+password; "v0$..." hashes need a rehash.
// Verify costs a fixed time, like a real KDF.
type fakeHasher struct{ cost time.Duration }

func (h fakeHasher) Hash(_ context.Context, pw string) (string, error) { return "v1$" + pw, nil }

func (h fakeHasher) Verify(_ context.Context, pw, encoded string) error {
	if h.cost > 0 {
		time.Sleep(h.cost)
	}
	_, got, ok := strings.Cut(encoded, "$")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(pw)) != 1 {
		return errors.New("mismatch")
	}
	return nil
}

func (h fakeHasher) NeedsRehash(encoded string) bool { return !strings.HasPrefix(encoded, "v1$") }

type fakePolicy struct{}

func (fakePolicy) Check(_ context.Context, pw string, words ...string) error {
	if len(pw) < 8 {
		return errors.New("policy: too short")
	}
	for _, w := range words {
		if w != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(w)) {
			return errors.New("policy: context word")
		}
	}
	return nil
}

// fakeCreds is the host's users table.
type fakeCreds struct {
	mu    sync.Mutex
	users map[string]auth.User
}

func (f *fakeCreds) FindUser(_ context.Context, by auth.Lookup, v string) (auth.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if (by == auth.ByID && u.ID == v) || (by == auth.ByEmail && strings.EqualFold(u.Email, v)) ||
			(by == auth.ByLogin && strings.EqualFold(u.Username, v)) {
			return u, nil
		}
	}
	return auth.User{}, auth.ErrNotFound
}

func (f *fakeCreds) CreateUser(_ context.Context, u auth.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.users {
		if strings.EqualFold(o.Email, u.Email) || strings.EqualFold(o.Username, u.Username) {
			return auth.ErrTaken
		}
	}
	f.users[u.ID] = u
	return nil
}

func (f *fakeCreds) SetPasswordHash(_ context.Context, id, hash string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return auth.ErrNotFound
	}
	u.PasswordHash = hash
	f.users[id] = u
	return nil
}

func (f *fakeCreds) get(id string) auth.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[id]
}

// fakeMFA accepts code "<n>" once per n (a TOTP time step) for enrolled
// users, and rejects replays.
type fakeMFA struct {
	mu       sync.Mutex
	enrolled map[string]bool
	used     map[string]bool
}

func (m *fakeMFA) Enrolled(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.enrolled[id], nil
}

func (m *fakeMFA) enroll(id string) { m.mu.Lock(); m.enrolled[id] = true; m.mu.Unlock() }

func (m *fakeMFA) VerifyMFA(_ context.Context, id, code string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.enrolled[id] || !strings.HasPrefix(code, "good") || m.used[id+code] {
		return "", errors.New("mfa: invalid")
	}
	m.used[id+code] = true
	return "totp", nil
}

type fakeSession struct {
	userID  string
	factors []string
}

// fakeSessions issues random tokens; only tokens it issued validate.
type fakeSessions struct {
	mu     sync.Mutex
	n      int
	live   map[string]fakeSession // token → session
	failOn bool
}

func (s *fakeSessions) StartSession(_ context.Context, userID string, st auth.SessionStart) (auth.IssuedSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failOn {
		return auth.IssuedSession{}, errors.New("sessions down")
	}
	s.n++
	tok := fmt.Sprintf("sess-%d-%s", s.n, userID)
	s.live[tok] = fakeSession{userID: userID, factors: st.Factors}
	return auth.IssuedSession{ID: fmt.Sprint(s.n), Token: tok}, nil
}

func (s *fakeSessions) EndSession(_ context.Context, userID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, ss := range s.live {
		if ss.userID == userID && strings.HasPrefix(tok, "sess-"+id+"-") {
			delete(s.live, tok)
			return nil
		}
	}
	return auth.ErrNotFound
}

func (s *fakeSessions) EndSessions(_ context.Context, userID, except string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for tok, ss := range s.live {
		if ss.userID == userID && !strings.HasPrefix(tok, "sess-"+except+"-") {
			delete(s.live, tok)
			n++
		}
	}
	return n, nil
}

func (s *fakeSessions) valid(tok string) (fakeSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.live[tok]
	return ss, ok
}

func (s *fakeSessions) count(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.live {
		if ss.userID == userID {
			n++
		}
	}
	return n
}

type recorder struct {
	mu     sync.Mutex
	events []auth.Event
	notes  []auth.Notification
	links  []auth.ResetLink
}

func (r *recorder) Audit(_ context.Context, e auth.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) Notify(_ context.Context, n auth.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	return nil
}

func (r *recorder) SendResetLink(_ context.Context, l auth.ResetLink) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.links = append(r.links, l)
	return nil
}

func (r *recorder) countEvents(t auth.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == t {
			n++
		}
	}
	return n
}

func (r *recorder) notesOf(t auth.NotificationType) []auth.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []auth.Notification
	for _, n := range r.notes {
		if n.Type == t {
			out = append(out, n)
		}
	}
	return out
}

func (r *recorder) lastLink(t *testing.T) auth.ResetLink {
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.links)
	return r.links[len(r.links)-1]
}

// env is an Authenticator with fakes around it.
type env struct {
	a     *auth.Authenticator
	store auth.Store
	creds *fakeCreds
	mfa   *fakeMFA
	sess  *fakeSessions
	rec   *recorder
	clock *clock
	cfg   setup
}

// setup is what New takes, in one value so that a test can change any of
// it (the field names of Deps and Config do not overlap).
type setup struct {
	auth.Deps
	auth.Config
}

// mustNew returns an Authenticator over store with s's dependencies and
// configuration.
func mustNew(store auth.Store, s setup) *auth.Authenticator {
	s.Store = store
	a, err := auth.New(s.Deps, s.Config)
	if err != nil {
		panic(err)
	}
	return a
}

// client is a well-behaved browser.
var client = auth.Client{IP: "198.51.100.7", UserAgent: "Firefox", Binding: "cookie-hash-1"}

func newEnv(t *testing.T, mod func(*setup)) *env {
	t.Helper()
	e := &env{
		store: memstore.NewAuthStore(),
		creds: &fakeCreds{users: map[string]auth.User{}},
		mfa:   &fakeMFA{enrolled: map[string]bool{}, used: map[string]bool{}},
		sess:  &fakeSessions{live: map[string]fakeSession{}},
		rec:   &recorder{},
		clock: newClock(),
	}
	e.cfg = setup{
		Deps: auth.Deps{
			Users: e.creds, Hasher: fakeHasher{}, Policy: fakePolicy{}, Sessions: e.sess,
			MFA: e.mfa, Auditor: e.rec, Notifier: e.rec, Mailer: e.rec,
		},
		Config: auth.Config{Now: e.clock.Now},
	}
	if mod != nil {
		mod(&e.cfg)
	}
	e.a = mustNew(e.store, e.cfg)
	return e
}

// again returns a second Authenticator on the same store and fakes, as a
// second app instance.
func (e *env) again() *auth.Authenticator { return mustNew(e.store, e.cfg) }

// addUser creates a user directly in the host's table.
func (e *env) addUser(id, username, password string) auth.User {
	u := auth.User{ID: id, Username: username, Email: username + "@example.com", PasswordHash: "v1$" + password}
	e.creds.mu.Lock()
	e.creds.users[id] = u
	e.creds.mu.Unlock()
	return u
}

// login runs a password login expected to succeed without MFA.
func (e *env) login(t *testing.T, username, password string, c auth.Client) auth.LoginResult {
	t.Helper()
	res, err := e.a.Login(context.Background(), username, password, c)
	require.NoError(t, err)
	return res
}

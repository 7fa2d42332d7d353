package bulwark_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
)

// switchableAudit is an audit store whose appends fail while down is set.
type switchableAudit struct {
	audit.Store
	down atomic.Bool
}

func (s *switchableAudit) Append(ctx context.Context, evs []audit.Entry) ([]audit.Record, error) {
	if s.down.Load() {
		return nil, errors.New("audit store down")
	}
	return s.Store.Append(ctx, evs)
}

// TestHookSeesNoUnauditedLogin: a sign-in whose audit record cannot be
// written is refused (fail closed), and the host's hook must not hear of
// it as a successful login: Config.Hook promises events "after they were
// written to the audit log", and a host acting on auth.login (a webhook,
// a SIEM, a "welcome back" mail) would otherwise report a login that did
// not happen.
func TestHookSeesNoUnauditedLogin(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []bulwark.Event
	st := &switchableAudit{}
	e := newEnvWith(t, func(m bulwark.Mailer) bulwark.Deps {
		d := memDeps(t, m)
		st.Store = d.Audit
		d.Audit = st
		return d
	}, func(c *bulwark.Config) {
		c.Hook = func(_ context.Context, ev bulwark.Event) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, ev)
		}
	})
	br := e.browser(t, "192.0.2.60")
	login := e.signUp(t, br, "Jan", "Kowalski", "jan@example.com")
	mu.Lock()
	seen = nil
	mu.Unlock()

	st.down.Store(true)
	r := br.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.Equal(t, http.StatusInternalServerError, r.status, r.body)
	require.False(t, hasCookie(br, "session"), "no session cookie for an unaudited login")

	mu.Lock()
	defer mu.Unlock()
	for _, ev := range seen {
		require.NotEqual(t, "auth.login", ev.Type, "the hook heard of a login that was refused because it could not be audited")
	}
}

// TestSignUpRateLimited: every sign-up costs an argon2id hash (the
// hasher's few slots, shared with sign-in) and a mail to an address the
// client chose, so one client must not be able to send them without
// bound: past auth's IPLimit per IPWindow from one address (IPv6: per
// /64), sign-up answers 429 whatever the address, while other clients go
// on.
func TestSignUpRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *bulwark.Config) { c.Auth.IPLimit = 3 })
	signUp := func(br *browser, email string) response {
		return br.do("POST", "/auth/signup", map[string]string{"first_name": "Jan", "last_name": "Kowalski",
			"email": email, "password": testPassword})
	}
	flood := e.browser(t, "2001:db8::1")
	for i := range 3 {
		require.Equal(t, http.StatusAccepted, signUp(flood, "v"+string(rune('a'+i))+"@example.com").status)
	}
	e.mail.mu.Lock()
	sent := len(e.mail.notes)
	e.mail.mu.Unlock()
	same64 := e.browser(t, "2001:db8::2")
	for _, addr := range []string{"new@example.com", "va@example.com"} {
		r := signUp(same64, addr)
		require.Equal(t, http.StatusTooManyRequests, r.status, r.body)
		require.Equal(t, "rate_limited", r.code())
	}
	e.mail.mu.Lock()
	require.Equal(t, sent, len(e.mail.notes), "a refused sign-up mails no one")
	e.mail.mu.Unlock()
	require.Equal(t, http.StatusAccepted, signUp(e.browser(t, "192.0.2.80"), "other@example.com").status)
}

// TestUserAgentBounded: the User-Agent is the client's choice (up to
// net/http's 1 MB of headers); it is stored with the session, listed by
// GET /sessions and passed to the hook, so it is cut to audit's 512 bytes.
func TestUserAgentBounded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	longest := 0
	e := newEnv(t, func(c *bulwark.Config) {
		c.Hook = func(_ context.Context, ev bulwark.Event) {
			mu.Lock()
			defer mu.Unlock()
			longest = max(longest, len(ev.UserAgent))
		}
	})
	br := e.browser(t, "192.0.2.95")
	login := e.signUp(t, br, "Jan", "Kowalski", "jan@example.com")
	huge := func(r *http.Request) { r.Header.Set("User-Agent", strings.Repeat("é", 50_000)) }
	r := br.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword}, huge)
	require.Equal(t, http.StatusOK, r.status, r.body)
	var list struct {
		Sessions []struct {
			UserAgent string `json:"user_agent"`
		} `json:"sessions"`
	}
	br.do("GET", "/auth/sessions", nil).decode(t, &list)
	require.Len(t, list.Sessions, 1)
	require.LessOrEqual(t, len(list.Sessions[0].UserAgent), 512)
	require.True(t, utf8.ValidString(list.Sessions[0].UserAgent))
	mu.Lock()
	defer mu.Unlock()
	require.LessOrEqual(t, longest, 512)
}

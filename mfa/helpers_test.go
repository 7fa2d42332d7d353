package mfa_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// newSealer returns the suite's AES-GCM test sealer.
func newSealer(testing.TB) mfa.Sealer { return mfatest.NewSealer() }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// events records hook events.
type events struct {
	mu  sync.Mutex
	all []mfa.Event
}

func (e *events) hook(_ context.Context, ev mfa.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) types() []mfa.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]mfa.EventType, len(e.all))
	for i, ev := range e.all {
		out[i] = ev.Type
	}
	return out
}

func (e *events) last() mfa.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.all[len(e.all)-1]
}

// requireNoSecret fails if any recorded event mentions one of secrets.
func (e *events) requireNoSecret(t *testing.T, secrets ...string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		s := fmt.Sprintf("%+v", ev)
		for _, sec := range secrets {
			require.NotContains(t, s, sec)
		}
	}
}

// t0 is a test time in the middle of a 30 s step.
var t0 = time.Date(2026, 11, 23, 12, 0, 15, 0, time.UTC)

type fixture struct {
	m     *mfa.Manager
	store mfa.Store
	clock *clock
	ev    *events
	sent  *captureSender
}

// captureSender records messages.
type captureSender struct {
	mu   sync.Mutex
	msgs []mfa.Message
	err  error
}

func (s *captureSender) Send(_ context.Context, msg mfa.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.msgs = append(s.msgs, msg)
	return nil
}

func (s *captureSender) lastCode(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.msgs)
	return s.msgs[len(s.msgs)-1].Code
}

func newFixture(t *testing.T, cfg mfa.Config) *fixture {
	t.Helper()
	f := &fixture{store: memstore.NewMFAStore(), clock: newClock(t0), ev: &events{}, sent: &captureSender{}}
	cfg.Now, cfg.Hook = f.clock.Now, f.ev.hook
	if cfg.QRCodeSize == 0 {
		cfg.QRCodeSize = 64 // rendering 256 px is most of an enrollment's cost under -race
	}
	if cfg.Sender == nil {
		cfg.Sender = f.sent
	}
	f.m = mustNew(t, f.store, newSealer(t), cfg)
	return f
}

// codeAt computes the code an app shows at time at for an enrollment.
func codeAt(t *testing.T, e *mfa.Enrollment, at time.Time) string {
	t.Helper()
	k, err := mfa.ParseKeyURI(e.URI)
	require.NoError(t, err)
	c, err := mfa.Code(k.Secret, k.Algorithm, k.Digits, k.Period, at)
	require.NoError(t, err)
	return c
}

// enrolled returns a fixture with a confirmed TOTP factor for "alice",
// the clock moved five steps past the confirmation so that earlier steps
// in the window are unused.
func enrolled(t *testing.T, cfg mfa.Config) (*fixture, *mfa.Enrollment) {
	t.Helper()
	f := newFixture(t, cfg)
	ctx := context.Background()
	e, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	require.NoError(t, f.m.ConfirmTOTP(ctx, "alice", codeAt(t, e, f.clock.Now())))
	f.clock.Add(5 * e.Period)
	return f, e
}

// mustNew is mfa.New for tests whose Config is valid.
func mustNew(t testing.TB, st mfa.Store, s mfa.Sealer, cfg mfa.Config) *mfa.Manager {
	t.Helper()
	m, err := mfa.New(st, s, cfg)
	require.NoError(t, err)
	return m
}

package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func newManager(t *testing.T, c *clock, rec *recorder) (*retention.Manager, retention.Store) {
	t.Helper()
	st := memstore.NewRetentionStore()
	m, err := retention.New(st, rec.config(c))
	require.NoError(t, err)
	m.Register("sessions", rec.eraser("sessions"))
	m.Register("profile", rec.eraser("profile"))
	return m, st
}

func TestZeroConfig(t *testing.T) {
	t.Parallel()
	st := memstore.NewRetentionStore()
	m, err := retention.New(st, retention.Config{})
	require.NoError(t, err)
	require.Equal(t, retention.SaaSLifecycle(), m.Policy())
	require.Equal(t, retention.DefaultWarnBefore, m.Policy().WarnBefore)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: retention.StateTrialExpired, Since: time.Now().Add(-13 * day)}))
	// No erasers: the erasure fails closed and the subject stays.
	rep, err := m.Run(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Scanned)
	require.Equal(t, 1, rep.Failed)
	r, err := st.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.True(t, r.Erased.IsZero())
	_, err = m.Erase(ctx, "u")
	require.ErrorIs(t, err, retention.ErrNoErasers)
	// The scheduler's zero config too.
	s := newScheduler(t, m, retention.SchedulerConfig{})
	_, err = s.RunOnce(ctx)
	require.NoError(t, err)
}

func TestPlanPreset(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	for _, s := range []retention.Subject{
		{ID: "trial", State: retention.StateTrialExpired, Since: t0},
		{ID: "cancelled", State: retention.StateCancelled, Since: t0},
		{ID: "unpaid", State: retention.StatePaymentFailed, Since: t0},
		{ID: "free", State: retention.StateFree, Since: t0.Add(-100 * day), LastActive: t0},
		{ID: "adios", State: retention.StateDeletionRequested, Since: t0},
		{ID: "paying", State: "active", Since: t0},
	} {
		require.NoError(t, st.PutSubject(ctx, s))
	}
	type want struct {
		action retention.Action
		due    time.Duration
		est    bool
	}
	tests := map[string][]want{
		"trial":     {{retention.Warn, 5 * day, false}, {retention.Erase, 12 * day, false}},
		"cancelled": {{retention.Warn, 83 * day, false}, {retention.Erase, 90 * day, false}},
		"unpaid": {
			{retention.Warn, 7 * day, false}, {retention.Suspend, 14 * day, false},
			{retention.Close, 90 * day, false}, {retention.Warn, 90 * day, true}, {retention.Erase, 97 * day, true},
		},
		"free":   {{retention.Warn, 53 * day, false}, {retention.Erase, 60 * day, false}},
		"adios":  {{retention.Erase, 0, false}},
		"paying": nil,
	}
	for id, steps := range tests {
		plans, err := m.Plan(ctx, id)
		require.NoError(t, err)
		require.Len(t, plans, 1)
		require.Len(t, plans[0].Steps, len(steps), id)
		for i, w := range steps {
			got := plans[0].Steps[i]
			require.Equal(t, w.action, got.Action, "%s step %d", id, i)
			require.Equal(t, t0.Add(w.due), got.Due, "%s step %d", id, i)
			require.Equal(t, w.est, got.Estimated, "%s step %d", id, i)
			require.NotEmpty(t, got.Rule)
		}
	}
	_, err := m.Plan(ctx, "nobody")
	require.ErrorIs(t, err, retention.ErrNotFound)

	// A hold blocks the erasure and its warning, and says why.
	require.NoError(t, m.SetHold(ctx, "trial", "litigation 7"))
	plans, err := m.Plan(ctx, "trial")
	require.NoError(t, err)
	e, ok := plans[0].NextErasure()
	require.True(t, ok)
	require.Equal(t, "legal hold: litigation 7", e.Blocked)
	require.Equal(t, "litigation 7", plans[0].Hold)
	require.Error(t, m.SetHold(ctx, "trial", ""))
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "unpaid", State: retention.StatePaymentFailed, Since: t0, HasKey: true}))
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "held", State: retention.StateCancelled, Since: t0}))
	require.NoError(t, m.SetHold(ctx, "held", "audit"))

	var last retention.Report
	for c.Now().Before(t0.Add(120 * day)) {
		c.Add(time.Hour)
		rep, err := m.Run(ctx, 0)
		require.NoError(t, err)
		require.Zero(t, rep.Failed)
		last = rep
	}
	require.Equal(t, 1, rec.suspends["unpaid"])
	require.Equal(t, 1, rec.closes["unpaid"])
	require.Equal(t, 1, rec.shredded["unpaid"])
	require.Equal(t, 1, rec.erased["unpaid/sessions"])
	require.Equal(t, 1, rec.erased["unpaid/profile"])
	require.Zero(t, rec.erased["held/sessions"])
	require.Equal(t, 1, last.Held)
	// Each warning went out once: before the suspension and before the
	// erasure; none for the held subject.
	require.Len(t, rec.notices, 2)
	require.Equal(t, retention.Suspend, rec.notices[0].Action)
	require.Equal(t, t0.Add(14*day), rec.notices[0].Due)
	require.Equal(t, retention.Erase, rec.notices[1].Action)
	require.Len(t, rec.receipts, 1)
	rc := rec.receipts[0]
	require.Equal(t, "payment-failed-erase", rc.Rule)
	require.Equal(t, []string{"sessions", "profile"}, rc.Categories)
	require.True(t, rc.KeyShredded)
	// The receipt holds no personal data: not even the subject id.
	b, err := json.Marshal(rc)
	require.NoError(t, err)
	require.NotContains(t, string(b), "unpaid")
	for _, e := range rec.events {
		if e.Type == retention.EventErased {
			require.Empty(t, e.Subject)
			require.Equal(t, rc.ID, e.Receipt)
		}
	}
	r, err := st.GetSubject(ctx, "unpaid")
	require.NoError(t, err)
	require.Equal(t, rc.ID, r.Receipt)
	plans, err := m.Plan(ctx, "unpaid")
	require.NoError(t, err)
	require.False(t, plans[0].Erased.IsZero())
	require.Empty(t, plans[0].Steps)
}

func TestEraseOnRequest(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))
	require.NoError(t, m.SetHold(ctx, "u", "tax audit"))
	_, err := m.Erase(ctx, "u")
	require.ErrorIs(t, err, retention.ErrOnHold)
	require.Zero(t, rec.erased["u/sessions"])
	require.NoError(t, m.ReleaseHold(ctx, "u"))
	rc, err := m.Erase(ctx, "u")
	require.NoError(t, err)
	require.Equal(t, "request", rc.Rule)
	require.True(t, rc.KeyShredded, "a Shredder is configured: the key is shredded whatever HasKey says")
	_, err = m.Erase(ctx, "u")
	require.ErrorIs(t, err, retention.ErrErased)
	require.ErrorIs(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active"}), retention.ErrErased)

	// A subject with its own key and no Shredder fails closed.
	m2, err := retention.New(st, retention.Config{Now: c.Now})
	require.NoError(t, err)
	m2.Register("sessions", rec.eraser("sessions"))
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "k", State: "active", Since: t0, HasKey: true}))
	_, err = m2.Erase(ctx, "k")
	require.ErrorIs(t, err, retention.ErrNoShredder)
	require.Zero(t, rec.erased["k/sessions"])
}

type failingNotifier struct{ n int }

func (f *failingNotifier) Notify(context.Context, retention.Notice) error {
	f.n++
	return errors.New("smtp down")
}

func TestFailuresAreRetriedAndCounted(t *testing.T) {
	t.Parallel()
	c := newClock(t0.Add(6 * day))
	st := memstore.NewRetentionStore()
	fn := &failingNotifier{}
	var logs strings.Builder
	m, err := retention.New(st, retention.Config{Notifier: fn, Now: c.Now, Logger: slogTo(&logs)})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: retention.StateTrialExpired, Since: t0}))
	for range 2 {
		rep, err := m.Run(ctx, 0)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Failed)
		require.Zero(t, rep.Warned)
	}
	require.Equal(t, 2, fn.n)
	require.Contains(t, logs.String(), "failed=1")
	require.Contains(t, logs.String(), "scanned=1")
}

func TestMaxActionsAndBatches(t *testing.T) {
	t.Parallel()
	c := newClock(t0.Add(30 * day))
	rec := newRecorder()
	st := memstore.NewRetentionStore()
	cfg := rec.config(c)
	cfg.BatchSize = 7
	cfg.MaxActions = 10
	m, err := retention.New(st, cfg)
	require.NoError(t, err)
	m.Register("sessions", rec.eraser("sessions"))
	ctx := context.Background()
	for i := range 25 {
		require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: string(rune('a'+i)) + "-subject", State: retention.StateTrialExpired, Since: t0}))
	}
	total := 0
	for i := 0; ; i++ {
		rep, err := m.Run(ctx, 0)
		require.NoError(t, err)
		require.LessOrEqual(t, rep.Acted, 10)
		total += rep.Erased
		if !rep.More {
			break
		}
		require.Less(t, i, 5)
	}
	require.Equal(t, 25, total)
}

type purger struct {
	recorder *recorder
	before   []time.Time
	left     int
}

func (p *purger) Erase(ctx context.Context, s string) error {
	return p.recorder.eraser("audit").Erase(ctx, s)
}

func (p *purger) Purge(_ context.Context, before time.Time, limit int, _ retention.HoldCheck) (int, error) {
	p.before = append(p.before, before)
	n := min(limit, p.left)
	p.left -= n
	return n, nil
}

// ownedPurger holds old records of named subjects and purges them as a
// careful host would: asking held about each subject first.
type ownedPurger struct {
	records map[string]int // subject -> old records left
}

func (p *ownedPurger) Erase(context.Context, string) error { return nil }

func (p *ownedPurger) Purge(ctx context.Context, _ time.Time, limit int, held retention.HoldCheck) (int, error) {
	n := 0
	for subject, left := range p.records {
		h, err := held(ctx, subject)
		if err != nil {
			return n, err
		}
		if h || left == 0 {
			continue
		}
		k := min(left, limit-n)
		p.records[subject] -= k
		n += k
		if n == limit {
			break
		}
	}
	return n, nil
}

// failingGet makes GetSubject fail, as a store outage would.
type failingGet struct{ retention.Store }

func (failingGet) GetSubject(context.Context, string) (retention.Record, error) {
	return retention.Record{}, errors.New("store down")
}

// TestPurgeKeepsHeldSubjects: a subject on legal hold keeps its data even
// when a category's retention period has passed, and a hold check that
// cannot be answered stops the purge rather than deleting.
func TestPurgeKeepsHeldSubjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock(t0)
	rec := newRecorder()
	st := memstore.NewRetentionStore()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "held", State: "active", Since: t0}))
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "free", State: "active", Since: t0}))
	cfg := rec.config(c)
	cfg.BatchSize = 10
	cfg.Policy.Categories = []retention.Category{{Name: "audit", Retain: 365 * day}}
	m, err := retention.New(st, cfg)
	require.NoError(t, err)
	require.NoError(t, m.SetHold(ctx, "held", "litigation 2026-114"))
	p := &ownedPurger{records: map[string]int{"held": 7, "free": 5, "unknown-to-retention": 3}}
	m.Register("audit", p)
	rep, err := m.Run(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 8, rep.Purged)
	require.Equal(t, map[string]int{"held": 7, "free": 0, "unknown-to-retention": 0}, p.records)

	down := &ownedPurger{records: map[string]int{"free": 5}}
	m2, err := retention.New(failingGet{st}, cfg)
	require.NoError(t, err)
	m2.Register("audit", down)
	rep, err = m2.Run(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 0, rep.Purged)
	require.Equal(t, 1, rep.Failed)
	require.Equal(t, 5, down.records["free"], "an unanswerable hold check must not delete")
}

func TestCategoryRetention(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	st := memstore.NewRetentionStore()
	cfg := rec.config(c)
	cfg.BatchSize = 10
	cfg.Policy = retention.SaaSLifecycle()
	cfg.Policy.Categories = []retention.Category{{Name: "audit", Retain: 365 * day}, {Name: "sessions", Retain: 30 * day}}
	m, err := retention.New(st, cfg)
	require.NoError(t, err)
	p := &purger{recorder: rec, left: 25}
	m.Register("audit", p)
	m.Register("sessions", rec.eraser("sessions")) // not a Purger: counted as a failure
	rep, err := m.Run(context.Background(), 0)
	require.NoError(t, err)
	require.Equal(t, 25, rep.Purged)
	require.Equal(t, 1, rep.Failed)
	require.Equal(t, []time.Time{t0.Add(-365 * day), t0.Add(-365 * day), t0.Add(-365 * day)}, p.before)
}

func TestEraseDefersToFencedScheduler(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))
	e, err := st.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "request", Fence: 5, Started: t0})
	require.NoError(t, err)
	require.NoError(t, st.StepErasure(ctx, e.ID, 5, "sessions"))
	_, err = m.Erase(ctx, "u")
	require.ErrorIs(t, err, retention.ErrFenced)
	rep, err := m.Run(ctx, 6)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Resumed)
	require.Zero(t, rec.erased["u/sessions"], "a recorded step is not repeated")
	require.Equal(t, 1, rec.erased["u/profile"])
	require.Len(t, rec.receipts, 1)
	require.Equal(t, "e1", rec.receipts[0].ID)
}

// A category named after one of the erasure's own steps ("key",
// "receipt") would share its progress mark: the eraser or the receipt
// would be skipped as already done while the erasure still finishes.
func TestRegisterRejectsReservedStepNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"key", "receipt"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := retention.New(memstore.NewRetentionStore(), retention.Config{})
			require.NoError(t, err)
			require.Panics(t, func() { m.Register(name, retention.EraserFunc(func(context.Context, string) error { return nil })) })
		})
	}
}

// The host's HasKey flag can lag the keyring, which creates a subject's
// key on its first SealFor. With a Shredder configured, erasure destroys
// the key whatever the flag says (DestroySubjectKey is idempotent), so no
// key is left behind.
func TestEraseShredsKeyWhateverHasKeySays(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))
	rc, err := m.Erase(ctx, "u")
	require.NoError(t, err)
	require.Equal(t, 1, rec.shredded["u"])
	require.True(t, rc.KeyShredded)
}

// A record without the timestamp a rule counts from is malformed: the zero
// time is not "long ago", so nothing is suspended, closed or erased on it.
func TestMissingTimestampNeverActs(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "trial", State: retention.StateTrialExpired}))
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "unpaid", State: retention.StatePaymentFailed}))
	rep, err := m.Run(ctx, 0)
	require.NoError(t, err)
	require.Zero(t, rep.Acted)
	require.Zero(t, rep.Held)
	require.Empty(t, rec.erased)
	require.Empty(t, rec.suspends)
	require.Empty(t, rec.notices)
	for _, id := range []string{"trial", "unpaid"} {
		r, err := st.GetSubject(ctx, id)
		require.NoError(t, err)
		require.True(t, r.Erased.IsZero(), id)
	}
	plans, err := m.Plan(ctx, "trial")
	require.NoError(t, err)
	e, ok := plans[0].NextErasure()
	require.True(t, ok)
	require.NotEmpty(t, e.Blocked)
}

// A hold placed after every step of an interrupted erasure was done still
// stops it: the subject is not turned into a tombstone (which would also
// drop the hold) until the hold is lifted.
func TestHoldStopsErasureBeforeTombstone(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx := context.Background()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))
	e, err := st.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "request", Fence: 1, Started: t0})
	require.NoError(t, err)
	for _, step := range []string{"key", "sessions", "profile", "receipt"} {
		require.NoError(t, st.StepErasure(ctx, e.ID, 1, step))
	}
	require.NoError(t, m.SetHold(ctx, "u", "litigation 9"))
	rep, err := m.Run(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Held)
	r, err := st.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.True(t, r.Erased.IsZero())
	require.Equal(t, "litigation 9", r.Hold.Reason)
	require.NoError(t, m.ReleaseHold(ctx, "u"))
	rep, err = m.Run(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Resumed)
}

package retention_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// world is the host's view of one subject in the property test: what it
// told the store, and what it saw happen.
type world struct {
	sub      retention.Subject
	held     bool
	closedAt time.Time // when the Actor closed it in the current state
	erasedAt time.Time
}

// due is the test's own oracle for when the preset erases the subject,
// written from the wording rather than from the package's plan.
func (w *world) due() (time.Time, bool) {
	s := w.sub
	switch s.State {
	case retention.StateTrialExpired:
		return s.Since.Add(12 * day), true
	case retention.StateCancelled:
		return s.Since.Add(90 * day), true
	case retention.StateFree:
		last := s.Since
		if s.LastActive.After(last) {
			last = s.LastActive
		}
		return last.Add(60 * day), true
	case retention.StateDeletionRequested:
		return s.Since, true
	case retention.StatePaymentFailed:
		if w.closedAt.IsZero() {
			return time.Time{}, false
		}
		return w.closedAt.Add(7 * day), true
	}
	return time.Time{}, false
}

type hostEvent struct {
	at      time.Time
	subject int
	kind    int // 0 state change, 1 activity, 2 hold toggle
	state   string
}

var simStates = []string{
	"active", "active", retention.StateTrialExpired, retention.StateCancelled,
	retention.StatePaymentFailed, retention.StatePaymentFailed, retention.StateFree, retention.StateFree,
	retention.StateDeletionRequested,
}

// TestPropertyTwoYears simulates two years of random account histories
// under the preset, with a scheduler run every interval, and checks after
// every run that each subject was erased when its rule said, within one
// interval; never before; and never while on hold.
func TestPropertyTwoYears(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))

	const (
		subjects = 250
		interval = 8 * time.Hour
		horizon  = 2 * 365 * day
	)
	c := newClock(t0)
	rec := newRecorder()
	st := memstore.NewRetentionStore()
	ctx := context.Background()
	worlds := make([]*world, subjects)
	ids := make([]string, subjects)
	byID := map[string]*world{}
	for i := range worlds {
		ids[i] = fmt.Sprintf("subject-%03d", i)
		worlds[i] = &world{sub: retention.Subject{ID: ids[i], State: "active", Since: t0, HasKey: i%3 == 0}}
		byID[ids[i]] = worlds[i]
		require.NoError(t, st.PutSubject(ctx, worlds[i].sub))
	}
	// The checks that run inside the host's callbacks.
	var violations []string
	rec.onErase = func(subject string) {
		w := byID[subject]
		now := c.Now()
		if w.held {
			violations = append(violations, fmt.Sprintf("%s erased at %v while on hold", subject, now))
		}
		if d, ok := w.due(); !ok || now.Before(d) {
			violations = append(violations, fmt.Sprintf("%s erased at %v before due (%v, %v)", subject, now, d, ok))
		}
	}
	cfg := rec.config(c)
	cfg.BatchSize = 50
	cfg.Hook = func(ctx context.Context, e retention.Event) {
		rec.hook(ctx, e)
		if e.Type == retention.EventClosed {
			byID[e.Subject].closedAt = c.Now()
		}
	}
	m, err := retention.New(st, cfg)
	require.NoError(t, err)
	m.Register("profile", rec.eraser("profile"))
	m.Register("sessions", rec.eraser("sessions"))
	sched := newScheduler(t, m, retention.SchedulerConfig{Interval: interval})

	// Random host events: on average one every 20 days per subject.
	var events []hostEvent
	for i := range worlds {
		at := t0
		for {
			at = at.Add(time.Duration(rng.ExpFloat64() * float64(20*day)))
			if at.After(t0.Add(horizon)) {
				break
			}
			ev := hostEvent{at: at, subject: i}
			switch x := rng.IntN(20); {
			case x < 12:
				ev.state = simStates[rng.IntN(len(simStates))]
			case x < 18:
				ev.kind = 1
			default:
				ev.kind = 2
			}
			events = append(events, ev)
		}
	}
	slices.SortFunc(events, func(a, b hostEvent) int { return a.at.Compare(b.at) })

	erasures := 0
	for now := t0.Add(interval); !now.After(t0.Add(horizon)); now = now.Add(interval) {
		for len(events) > 0 && !events[0].at.After(now) {
			ev := events[0]
			events = events[1:]
			w := worlds[ev.subject]
			if !w.erasedAt.IsZero() {
				continue
			}
			c.Set(ev.at)
			switch ev.kind {
			case 0:
				w.sub.State, w.sub.Since, w.closedAt = ev.state, ev.at, time.Time{}
				require.NoError(t, st.PutSubject(ctx, w.sub))
			case 1:
				w.sub.LastActive = ev.at
				require.NoError(t, st.PutSubject(ctx, w.sub))
			case 2:
				if w.held {
					require.NoError(t, m.ReleaseHold(ctx, w.sub.ID))
				} else {
					require.NoError(t, m.SetHold(ctx, w.sub.ID, "case "+w.sub.ID))
				}
				w.held = !w.held
			}
		}
		c.Set(now)
		rep, err := sched.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, rep.Failed)
		require.False(t, rep.More)
		require.Empty(t, violations)
		for _, w := range worlds {
			if !w.erasedAt.IsZero() {
				continue
			}
			r, err := st.GetSubject(ctx, w.sub.ID)
			require.NoError(t, err)
			if !r.Erased.IsZero() {
				w.erasedAt = now
				erasures++
				continue
			}
			if d, ok := w.due(); ok && !w.held && !d.After(now) {
				t.Fatalf("%s due at %v (state %s) not erased by the run at %v", w.sub.ID, d, w.sub.State, now)
			}
			if w.sub.State == retention.StatePaymentFailed && !w.sub.Since.Add(90*day).After(now) && w.closedAt.IsZero() {
				t.Fatalf("%s not closed 90 days after its payment failure", w.sub.ID)
			}
		}
	}
	t.Logf("%d erasures over two years", erasures)
	require.Positive(t, erasures)
	// Each warning key was sent once.
	seen := map[string]bool{}
	for _, n := range rec.notices {
		require.False(t, seen[n.Subject+n.Key], "warning %s sent twice to %s", n.Key, n.Subject)
		seen[n.Subject+n.Key] = true
	}
	// Each subject erased once, with one receipt each.
	require.Len(t, rec.receipts, erasures)
	for _, w := range worlds {
		if !w.erasedAt.IsZero() {
			require.Equal(t, 1, rec.erased[w.sub.ID+"/profile"])
			if w.sub.HasKey {
				require.Equal(t, 1, rec.shredded[w.sub.ID])
			}
		}
	}
	_, err = m.Erase(ctx, ids[0])
	if err != nil && !errors.Is(err, retention.ErrErased) && !errors.Is(err, retention.ErrOnHold) {
		t.Fatal(err)
	}
}

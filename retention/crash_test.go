package retention_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var errCrash = errors.New("process killed")

// crasher kills the simulated process after a number of operations. The
// fatal operation either never happens or happens with its result lost,
// chosen at random, as with a real crash.
type crasher struct {
	mu   sync.Mutex
	left int
	dead bool
	rng  *rand.Rand
}

func (c *crasher) do(f func() error) error {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errCrash
	}
	c.left--
	if c.left > 0 {
		c.mu.Unlock()
		return f()
	}
	c.dead = true
	after := c.rng.IntN(2) == 0
	c.mu.Unlock()
	if after {
		_ = f()
	}
	return errCrash
}

type crashStore struct {
	s retention.Store
	c *crasher
}

func (x crashStore) PutSubject(ctx context.Context, s retention.Subject) error {
	return x.c.do(func() error { return x.s.PutSubject(ctx, s) })
}

func (x crashStore) GetSubject(ctx context.Context, id string) (r retention.Record, err error) {
	err = x.c.do(func() (e error) { r, e = x.s.GetSubject(ctx, id); return e })
	return r, err
}

func (x crashStore) ListSubjects(ctx context.Context, after string, limit int) (r []retention.Record, err error) {
	err = x.c.do(func() (e error) { r, e = x.s.ListSubjects(ctx, after, limit); return e })
	return r, err
}

func (x crashStore) MarkAction(ctx context.Context, id string, v int64, m retention.Mark) error {
	return x.c.do(func() error { return x.s.MarkAction(ctx, id, v, m) })
}

func (x crashStore) SetHold(ctx context.Context, id string, h retention.Hold) error {
	return x.c.do(func() error { return x.s.SetHold(ctx, id, h) })
}

func (x crashStore) BeginErasure(ctx context.Context, e retention.Erasure) (r retention.Erasure, err error) {
	err = x.c.do(func() (er error) { r, er = x.s.BeginErasure(ctx, e); return er })
	return r, err
}

func (x crashStore) StepErasure(ctx context.Context, id string, fence int64, step string) error {
	return x.c.do(func() error { return x.s.StepErasure(ctx, id, fence, step) })
}

func (x crashStore) FinishErasure(ctx context.Context, id string, fence int64, at time.Time) error {
	return x.c.do(func() error { return x.s.FinishErasure(ctx, id, fence, at) })
}

func (x crashStore) PendingErasures(ctx context.Context, limit int) (r []retention.Erasure, err error) {
	err = x.c.do(func() (e error) { r, e = x.s.PendingErasures(ctx, limit); return e })
	return r, err
}

type crashHost struct {
	r *recorder
	c *crasher
}

func (h crashHost) DestroySubjectKey(ctx context.Context, s string) error {
	return h.c.do(func() error { return h.r.DestroySubjectKey(ctx, s) })
}

func (h crashHost) RecordErasure(ctx context.Context, rc retention.Receipt) error {
	return h.c.do(func() error { return h.r.RecordErasure(ctx, rc) })
}

func (h crashHost) Notify(ctx context.Context, n retention.Notice) error {
	return h.c.do(func() error { return h.r.Notify(ctx, n) })
}

func (h crashHost) eraser(category string) retention.Eraser {
	e := h.r.eraser(category)
	return retention.EraserFunc(func(ctx context.Context, s string) error {
		return h.c.do(func() error { return e.Erase(ctx, s) })
	})
}

// TestKillAndRestart kills the process at random points of its runs and
// restarts it, until the work is done: each due subject is erased exactly
// once (one receipt, one tombstone), and no subject that was not due, or
// that is on hold, is touched.
func TestKillAndRestart(t *testing.T) {
	t.Parallel()
	base := uint64(time.Now().UnixNano())
	for i := range uint64(20) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			killAndRestart(t, base+i)
		})
	}
}

func killAndRestart(t *testing.T, seed uint64) {
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))
	c := newClock(t0)
	rec := newRecorder()
	st := memstore.NewRetentionStore()
	ctx := context.Background()
	due := map[string]bool{}
	for i := range 60 {
		id := fmt.Sprintf("s%02d", i)
		s := retention.Subject{ID: id, State: retention.StateTrialExpired, Since: t0.Add(-30 * day), HasKey: i%4 == 0}
		switch i % 3 {
		case 1:
			s.Since = t0.Add(-6 * day) // warned, not yet due
		case 2:
			s.State = "active"
		}
		require.NoError(t, st.PutSubject(ctx, s))
		if i%3 == 0 && i%5 == 0 {
			require.NoError(t, st.SetHold(ctx, id, retention.Hold{Reason: "case", Since: t0}))
		} else if i%3 == 0 {
			due[id] = true
		}
	}
	restarts := 0
	for fence := int64(1); ; fence++ {
		require.Less(t, fence, int64(5000), "no progress")
		cr := &crasher{left: 1 + rng.IntN(40), rng: rng}
		h := crashHost{r: rec, c: cr}
		cfg := retention.Config{Notifier: h, Shredder: h, Recorder: h, Now: c.Now, Logger: rec.config(c).Logger, BatchSize: 1 + rng.IntN(10)}
		m, err := retention.New(crashStore{s: st, c: cr}, cfg)
		require.NoError(t, err)
		m.Register("sessions", h.eraser("sessions"))
		m.Register("profile", h.eraser("profile"))
		_, _ = m.Run(ctx, fence)
		if cr.dead {
			restarts++
			continue
		}
		pend, err := st.PendingErasures(ctx, 100)
		require.NoError(t, err)
		if len(pend) == 0 {
			break
		}
	}
	t.Logf("%d restarts", restarts)
	require.Positive(t, restarts)

	receipts := map[string]bool{}
	for _, rc := range rec.receipts {
		receipts[rc.ID] = true
	}
	require.Len(t, receipts, len(due), "one receipt per erased subject")
	for i := range 60 {
		id := fmt.Sprintf("s%02d", i)
		r, err := st.GetSubject(ctx, id)
		require.NoError(t, err)
		if due[id] {
			require.False(t, r.Erased.IsZero(), id)
			require.True(t, receipts[r.Receipt], id)
			require.Positive(t, rec.erased[id+"/sessions"])
			require.Positive(t, rec.erased[id+"/profile"])
			if i%4 == 0 {
				require.Positive(t, rec.shredded[id])
			}
			continue
		}
		require.True(t, r.Erased.IsZero(), id)
		require.Zero(t, rec.erased[id+"/sessions"]+rec.erased[id+"/profile"]+rec.shredded[id], "%s touched", id)
	}
}

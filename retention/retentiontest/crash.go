package retentiontest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
)

var errCrash = errors.New("retentiontest: process killed")

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

// crashStore passes every call through the crasher.
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

func (x crashStore) ListSubjects(ctx context.Context, buf []retention.Record, after string, limit int) (r []retention.Record, err error) {
	err = x.c.do(func() (e error) { r, e = x.s.ListSubjects(ctx, buf, after, limit); return e })
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

func (x crashStore) AdvanceFence(ctx context.Context, fence int64) error {
	return x.c.do(func() error { return x.s.AdvanceFence(ctx, fence) })
}

func (x crashStore) PendingErasures(ctx context.Context, limit int) (r []retention.Erasure, err error) {
	err = x.c.do(func() (e error) { r, e = x.s.PendingErasures(ctx, limit); return e })
	return r, err
}

// crashHost is the host's side (erasers, shredder, recorder, notifier),
// counting what really happened and dying with the process.
type crashHost struct {
	mu       sync.Mutex
	c        *crasher
	erased   map[string]int
	shredded map[string]int
	receipts map[string]int
}

func (h *crashHost) count(m map[string]int, k string) error {
	return h.c.do(func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		m[k]++
		return nil
	})
}

func (h *crashHost) DestroySubjectKey(_ context.Context, s string) error {
	return h.count(h.shredded, s)
}

func (h *crashHost) RecordErasure(_ context.Context, rc retention.Receipt) error {
	return h.count(h.receipts, rc.ID)
}

func (h *crashHost) Notify(context.Context, retention.Notice) error {
	return h.c.do(func() error { return nil })
}

func (h *crashHost) eraser(category string) retention.Eraser {
	return retention.EraserFunc(func(_ context.Context, s string) error {
		return h.count(h.erased, s+"/"+category)
	})
}

// testKillAndRestart kills the process at random points of its runs and
// restarts it until the work is done: each due subject is erased exactly
// once (one receipt, one tombstone) and no subject that was not due, or is
// on hold, is touched.
func testKillAndRestart(t *testing.T, s retention.Store) {
	seed := uint64(time.Now().UnixNano())
	for round := range 3 {
		killAndRestart(t, s, fmt.Sprintf("r%d-", round), seed+uint64(round))
	}
}

func killAndRestart(t *testing.T, s retention.Store, prefix string, seed uint64) {
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17)) // #nosec G404 -- test data shapes, not secrets
	ctx := context.Background()
	now := t0.Add(100 * 24 * time.Hour)
	host := &crashHost{erased: map[string]int{}, shredded: map[string]int{}, receipts: map[string]int{}}
	const n = 24
	due := map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("%ss%02d", prefix, i)
		sub := retention.Subject{ID: id, State: retention.StateTrialExpired, Since: now.Add(-30 * 24 * time.Hour), HasKey: i%4 == 0}
		switch i % 3 {
		case 1:
			sub.Since = now.Add(-6 * 24 * time.Hour) // warned, not yet due
		case 2:
			sub.State = "active"
		}
		put(t, s, sub)
		if i%9 == 0 {
			if err := s.SetHold(ctx, id, retention.Hold{Reason: "case", Since: now}); err != nil {
				t.Fatal(err)
			}
		} else if i%3 == 0 {
			due[id] = true
		}
	}
	restarts := 0
	for fence := int64(1); ; fence++ {
		if fence > 2000 {
			t.Fatal("no progress after 2000 restarts")
		}
		host.c = &crasher{left: 1 + rng.IntN(25), rng: rng}
		m, err := retention.New(crashStore{s: s, c: host.c}, retention.Config{
			Notifier: host, Shredder: host, Recorder: host,
			Now:       func() time.Time { return now },
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			BatchSize: 1 + rng.IntN(10),
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Register("sessions", host.eraser("sessions"))
		m.Register("profile", host.eraser("profile"))
		_, _ = m.Run(ctx, fence)
		if host.c.dead {
			restarts++
			continue
		}
		pend, err := s.PendingErasures(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(pend) == 0 {
			break
		}
	}
	t.Logf("%d restarts", restarts)
	if len(host.receipts) != len(due) {
		t.Fatalf("%d distinct receipts for %d due subjects", len(host.receipts), len(due))
	}
	for i := range n {
		id := fmt.Sprintf("%ss%02d", prefix, i)
		r := get(t, s, id)
		touched := host.erased[id+"/sessions"] + host.erased[id+"/profile"] + host.shredded[id]
		switch {
		case !due[id] && (!r.Erased.IsZero() || touched > 0):
			t.Fatalf("%s was not due but was touched (erased %v, %d calls)", id, r.Erased, touched)
		case !due[id]:
		case r.Erased.IsZero():
			t.Fatalf("%s was due but not erased", id)
		case host.receipts[r.Receipt] == 0:
			t.Fatalf("%s's tombstone names receipt %q, never recorded", id, r.Receipt)
		case host.erased[id+"/sessions"] == 0 || host.erased[id+"/profile"] == 0:
			t.Fatalf("%s erased without running every eraser", id)
		case i%4 == 0 && host.shredded[id] == 0:
			t.Fatalf("%s has a key that was not shredded", id)
		}
	}
}

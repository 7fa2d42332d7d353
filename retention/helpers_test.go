package retention_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// newScheduler is retention.NewScheduler for a test: it fails t on error.
func newScheduler(t testing.TB, m *retention.Manager, cfg retention.SchedulerConfig) *retention.Scheduler {
	t.Helper()
	s, err := retention.NewScheduler(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// clock is a simulated clock.
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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// recorder collects what the manager asks the host to do.
type recorder struct {
	mu       sync.Mutex
	erased   map[string]int // subject/category -> calls
	shredded map[string]int
	notices  []retention.Notice
	suspends map[string]int
	closes   map[string]int
	receipts []retention.Receipt
	events   []retention.Event
	onErase  func(subject string)
}

func newRecorder() *recorder {
	return &recorder{erased: map[string]int{}, shredded: map[string]int{}, suspends: map[string]int{}, closes: map[string]int{}}
}

func (r *recorder) eraser(category string) retention.Eraser {
	return retention.EraserFunc(func(_ context.Context, subject string) error {
		r.mu.Lock()
		r.erased[subject+"/"+category]++
		f := r.onErase
		r.mu.Unlock()
		if f != nil {
			f(subject)
		}
		return nil
	})
}

func (r *recorder) DestroySubjectKey(_ context.Context, subject string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shredded[subject]++
	return nil
}

func (r *recorder) Notify(_ context.Context, n retention.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	return nil
}

func (r *recorder) Suspend(_ context.Context, subject string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.suspends[subject]++
	return nil
}

func (r *recorder) Close(_ context.Context, subject string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closes[subject]++
	return nil
}

func (r *recorder) RecordErasure(_ context.Context, rc retention.Receipt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.receipts = append(r.receipts, rc)
	return nil
}

func (r *recorder) hook(_ context.Context, e retention.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) config(c *clock) retention.Config {
	return retention.Config{
		Actor:    r,
		Notifier: r,
		Shredder: r,
		Recorder: r,
		Hook:     r.hook,
		Now:      c.Now,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func nilSafeStore() retention.Store { return memstore.NewRetentionStore() }

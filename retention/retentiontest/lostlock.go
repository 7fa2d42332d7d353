package retentiontest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
)

// LostLock checks that a scheduler which loses its lock in the middle of a
// run, without being told, runs no host code once the next holder has
// started. Instance A (store sa, locker la) runs until it pauses; lose
// then makes the engine drop A's lock (kill the lock's connection, delete
// the lock key) without A noticing. Instance B (sb, lb) takes the lock and
// runs; then A is let go. No host call of A (Notifier, Eraser, Shredder,
// Recorder) may start after B's first one, and A's RunOnce must report
// [retention.ErrLockLost].
//
// It does so twice. First A pauses inside its first call into host code:
// what comes next is a store write, which the store refuses
// ([retention.FenceStore]). Then A pauses in its Hook, right after a
// write that succeeded: what comes next is a call into host code, which
// only [retention.Lease.Check] stops.
//
// sa and sb are two handles on one store (two pools on one schema, or one
// in-memory store); they must start empty.
func LostLock(t *testing.T, sa, sb retention.Store, la, lb retention.Locker, lose func(t *testing.T, lease retention.Lease)) {
	t.Helper()
	for _, phase := range []struct {
		prefix string
		inHook bool
		age    time.Duration // since the trial expired
	}{
		{"lost", false, 20 * 24 * time.Hour}, // warning and erasure due
		// Only the warning is due (the default policy erases after 12
		// days and warns 7 days before): after A's first warning comes
		// the next subject's warning, a call into host code.
		{"gap", true, 8 * 24 * time.Hour},
	} {
		lostLock(t, sa, sb, la, lb, lose, phase.prefix, phase.inHook, phase.age)
		if t.Failed() {
			return
		}
	}
}

// lostLock is one pass of LostLock: A pauses in its first host call, or,
// with inHook, in its Hook after its first successful write.
func lostLock(t *testing.T, sa, sb retention.Store, la, lb retention.Locker, lose func(t *testing.T, lease retention.Lease), prefix string, inHook bool, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 12
	for i := range n {
		sub := retention.Subject{ID: fmt.Sprintf("%s-%02d", prefix, i), State: retention.StateTrialExpired, Since: now.Add(-age), HasKey: i%2 == 0}
		if err := sa.PutSubject(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		calls   []string // "A notify lost-00", in the order they started
		blocked = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
	)
	pause := func() {
		once.Do(func() {
			close(blocked)
			select {
			case <-release:
			case <-time.After(2 * time.Minute):
				t.Error("instance A was never released")
			}
		})
	}
	host := func(who string) *lostHost {
		return &lostHost{record: func(what, subject string) {
			mu.Lock()
			calls = append(calls, who+" "+what+" "+subject)
			mu.Unlock()
			if who == "A" && !inHook {
				pause()
			}
		}}
	}
	// A's Hook pauses it after its first write that succeeded, before its
	// next call into host code.
	hookA := func(_ context.Context, ev retention.Event) {
		switch ev.Type {
		case retention.EventWarned, retention.EventSuspended, retention.EventClosed, retention.EventErased:
			if inHook {
				pause()
			}
		}
	}
	sched := func(s retention.Store, l retention.Locker, h *lostHost, hook func(context.Context, retention.Event), maxActions int) *retention.Scheduler {
		m, err := retention.New(s, retention.Config{
			Notifier: h, Shredder: h, Recorder: h, Hook: hook,
			Now:        func() time.Time { return now },
			Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
			BatchSize:  2 * n, // A holds every subject in hand when it loses the lock
			MaxActions: maxActions,
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Register("profile", retention.EraserFunc(func(_ context.Context, s string) error { h.record("erase", s); return nil }))
		sc, err := retention.NewScheduler(m, retention.SchedulerConfig{Job: "lost", Locker: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	leases := make(chan retention.Lease, 1)
	a := sched(sa, grabLocker{la, leases}, host("A"), hookA, 0)
	// B does a few actions only, so that work is left for a stale A.
	b := sched(sb, lb, host("B"), nil, 3)

	var errA error
	doneA := make(chan struct{})
	go func() {
		defer close(doneA)
		_, errA = a.RunOnce(ctx)
	}()
	select {
	case <-blocked:
	case <-doneA:
		t.Fatalf("A finished without pausing: %v", errA)
	case <-time.After(2 * time.Minute):
		t.Fatal("A never paused")
	}
	lose(t, <-leases)
	// B takes the lock as soon as the engine has released it.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := b.RunOnce(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, retention.ErrLocked) || time.Now().After(deadline) {
			close(release)
			t.Fatalf("B.RunOnce: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	<-doneA
	if !errors.Is(errA, retention.ErrLockLost) {
		t.Errorf("A.RunOnce = %v, want ErrLockLost", errA)
	}
	mu.Lock()
	defer mu.Unlock()
	firstB := -1
	for i, c := range calls {
		if c[0] == 'B' {
			firstB = i
			break
		}
	}
	if firstB < 0 {
		t.Fatalf("B called no host code: %v", calls)
	}
	for _, c := range calls[firstB:] {
		if c[0] == 'A' {
			t.Errorf("stale holder A called host code after B started: %q in %v", c, calls)
		}
	}
	t.Logf("host calls: %v", calls)
}

// grabLocker hands each lease it grants to leases as well.
type grabLocker struct {
	l      retention.Locker
	leases chan<- retention.Lease
}

func (g grabLocker) Acquire(ctx context.Context, job string, ttl time.Duration) (retention.Lease, error) {
	lease, err := g.l.Acquire(ctx, job, ttl)
	if err == nil {
		select {
		case g.leases <- lease:
		default:
		}
	}
	return lease, err
}

// lostHost is one instance's host code; record notes each call as it
// starts.
type lostHost struct{ record func(what, subject string) }

func (h *lostHost) Notify(_ context.Context, n retention.Notice) error {
	h.record("notify", n.Subject)
	return nil
}

func (h *lostHost) DestroySubjectKey(_ context.Context, s string) error {
	h.record("shred", s)
	return nil
}

func (h *lostHost) RecordErasure(_ context.Context, r retention.Receipt) error {
	h.record("receipt", r.ID)
	return nil
}

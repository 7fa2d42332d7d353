// Command retentionexample plays 120 days of an app's account lifecycle
// under Bulwark's retention preset, in a few milliseconds, on a simulated
// clock: warnings, a suspension, a closure, erasures with receipts, and a
// legal hold that stops one. It keeps its data in a temporary SQLite file.
//
//	go run ./examples/retentionexample
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "retentionexample:", err)
		os.Exit(1)
	}
}

// host stands in for the app: it suspends and closes accounts, mails
// warnings and keeps erasure receipts.
type host struct {
	w   io.Writer
	now func() time.Time
}

func (h host) day() string { return h.now().Format(time.DateOnly) }

func (h host) Suspend(_ context.Context, subject string) error {
	fmt.Fprintf(h.w, "%s suspend %s\n", h.day(), subject)
	return nil
}

func (h host) Close(_ context.Context, subject string) error {
	fmt.Fprintf(h.w, "%s close   %s\n", h.day(), subject)
	return nil
}

func (h host) Notify(_ context.Context, n retention.Notice) error {
	fmt.Fprintf(h.w, "%s warn    %s: %s on %s\n", h.day(), n.Subject, n.Action, n.Due.Format(time.DateOnly))
	return nil
}

func (h host) RecordErasure(_ context.Context, r retention.Receipt) error {
	fmt.Fprintf(h.w, "%s receipt rule=%s categories=%v key shredded=%v\n", h.day(), r.Rule, r.Categories, r.KeyShredded)
	return nil
}

func (h host) DestroySubjectKey(context.Context, string) error { return nil }

func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "bulwark-retention-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	rs := st.Retention()

	start := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }
	h := host{w: w, now: clock}
	m, err := retention.New(rs, retention.Config{
		Actor: h, Notifier: h, Recorder: h, Shredder: h,
		Now:    clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}) // zero Policy: the saas-lifecycle preset
	if err != nil {
		return err
	}
	for _, c := range []string{"sessions", "profile"} {
		m.Register(c, retention.EraserFunc(func(context.Context, string) error { return nil }))
	}

	for _, s := range []retention.Subject{
		{ID: "trial-ann", State: retention.StateTrialExpired, Since: start},
		{ID: "unpaid-bob", State: retention.StatePaymentFailed, Since: start, HasKey: true},
		{ID: "free-cy", State: retention.StateFree, Since: start.AddDate(0, 0, -90), LastActive: start.AddDate(0, 0, -50)},
		{ID: "held-dee", State: retention.StateCancelled, Since: start.AddDate(0, 0, -200)},
	} {
		if err := rs.PutSubject(ctx, s); err != nil {
			return err
		}
	}
	if err := m.SetHold(ctx, "held-dee", "litigation 2026-114"); err != nil {
		return err
	}
	plans, err := m.Plan(ctx, "unpaid-bob", "held-dee")
	if err != nil {
		return err
	}
	for _, p := range plans {
		fmt.Fprintf(w, "plan for %s:\n", p.Subject)
		for _, s := range p.Steps {
			note := ""
			if s.Estimated {
				note = " (estimated)"
			}
			if s.Blocked != "" {
				note = " (blocked: " + s.Blocked + ")"
			}
			fmt.Fprintf(w, "  %-7s %s %s%s\n", s.Action, s.Due.Format(time.DateOnly), s.Rule, note)
		}
	}

	sched, err := retention.NewScheduler(m, retention.SchedulerConfig{})
	if err != nil {
		return err
	}
	var total retention.Report
	for now.Before(start.AddDate(0, 0, 120)) {
		now = now.Add(24 * time.Hour)
		rep, err := sched.RunOnce(ctx)
		if err != nil {
			return err
		}
		total.Acted += rep.Acted
		total.Failed += rep.Failed
		total.Erased += rep.Erased
	}
	fmt.Fprintf(w, "120 days: %d actions, %d erasures, %d failures\n", total.Acted, total.Erased, total.Failed)
	return nil
}

package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// retentionSeedPostgres bulk-inserts n subjects in one INSERT ... SELECT
// over generate_series: a mix of the preset's states with due dates spread
// over the past year.
func retentionSeedPostgres(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UnixMicro()
	_, err := db.ExecContext(ctx, `
INSERT INTO bulwark_retention_subjects (id, state, since, last_active, has_key, version)
SELECT 's' || lpad(g::text, 8, '0'),
       (ARRAY['active','trial_expired','cancelled','payment_failed','free','deletion_requested'])[1 + g % 6],
       $1 - (g % 365) * 86400000000::bigint,
       $1 - (g % 90) * 86400000000::bigint,
       g % 2, 1
FROM generate_series(1, $2::int) AS g`, now, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE bulwark_retention_subjects`); err != nil {
		b.Fatal(err)
	}
}

func retentionQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// BenchmarkRetentionPlan1MPostgres plans every one of 1M subjects stored
// in PostgreSQL (the target: at most 10 s per op on this machine).
func BenchmarkRetentionPlan1MPostgres(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-subject benchmark skipped in short mode")
	}
	const n = 1_000_000
	db := testenv.Postgres(b)
	st := sqlstore.New(db, sqlstore.Postgres)
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	retentionSeedPostgres(b, db, n)
	m, err := retention.New(st.Retention(), retention.Config{BatchSize: 10000, Logger: retentionQuiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		count, erasures := 0, 0
		if err := m.PlanAll(ctx, func(p retention.SubjectPlan) error {
			count++
			if _, ok := p.NextErasure(); ok {
				erasures++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("planned %d subjects, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "subjects/s")
}

// BenchmarkRetentionPlanMemstore is the same planning work on 10k
// in-memory subjects, as a baseline for the ratio.
func BenchmarkRetentionPlanMemstore(b *testing.B) {
	const n = 10_000
	st := memstore.NewRetentionStore()
	ctx := context.Background()
	now := time.Now()
	for i := range n {
		if err := st.PutSubject(ctx, retention.Subject{ID: fmt.Sprintf("s%08d", i), State: retention.StatePaymentFailed, Since: now.Add(-time.Duration(i%365) * 24 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	m, err := retention.New(st, retention.Config{BatchSize: 10000, Logger: retentionQuiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.PlanAll(ctx, func(retention.SubjectPlan) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "subjects/s")
}

// BenchmarkRetentionErase measures erasure throughput: each op erases one
// subject with three registered erasers and a key to shred, recording
// every step so a crash could resume.
func BenchmarkRetentionErase(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(b *testing.B) retention.Store
	}{
		{"memstore", func(*testing.B) retention.Store { return memstore.NewRetentionStore() }},
		{"sqlite", func(b *testing.B) retention.Store {
			st := sqlstore.New(testenv.SQLite(b), sqlstore.SQLite)
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return st.Retention()
		}},
		{"postgres", func(b *testing.B) retention.Store {
			st := sqlstore.New(testenv.Postgres(b), sqlstore.Postgres)
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return st.Retention()
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			ctx := context.Background()
			m, err := retention.New(st, retention.Config{Shredder: retentionNoop{}, Recorder: retentionNoop{}, Logger: retentionQuiet()})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range []string{"sessions", "profile", "exports"} {
				m.Register(c, retention.EraserFunc(func(context.Context, string) error { return nil }))
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				id := fmt.Sprintf("e%09d", i)
				i++
				if err := st.PutSubject(ctx, retention.Subject{ID: id, State: "active", HasKey: true}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := m.Erase(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type retentionNoop struct{}

func (retentionNoop) DestroySubjectKey(context.Context, string) error        { return nil }
func (retentionNoop) RecordErasure(context.Context, retention.Receipt) error { return nil }

// retentionSeedSQLite bulk-inserts n subjects into SQLite as
// retentionSeedPostgres does into PostgreSQL: the same mix of states.
func retentionSeedSQLite(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	now := time.Now().UnixMicro()
	_, err := db.ExecContext(context.Background(), `
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?2)
INSERT INTO bulwark_retention_subjects (id, state, since, last_active, has_key, version)
SELECT 's' || substr('00000000' || x, -8, 8),
       CASE x % 6 WHEN 0 THEN 'active' WHEN 1 THEN 'trial_expired' WHEN 2 THEN 'cancelled'
                  WHEN 3 THEN 'payment_failed' WHEN 4 THEN 'free' ELSE 'deletion_requested' END,
       ?1 - (x % 365) * 86400000000, ?1 - (x % 90) * 86400000000, x % 2, 1
FROM g`, now, n)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRetentionPlanVsScan plans every subject (Manager.PlanAll) and,
// in the same run on the same rows, does the bare paged scan PlanAll is
// built on (ListSubjects page after page, same page size), so the cost of
// planning is the ratio of the two. The subjects are a mix of the
// preset's states, so most have two to five steps.
func BenchmarkRetentionPlanVsScan(b *testing.B) {
	const n, batch = 100_000, 1000
	now := time.Now()
	states := []string{"active", retention.StateTrialExpired, retention.StateCancelled, retention.StatePaymentFailed, retention.StateFree, retention.StateDeletionRequested}
	for _, be := range []struct {
		name string
		open func(b *testing.B) retention.Store
	}{
		{"memstore", func(b *testing.B) retention.Store {
			st := memstore.NewRetentionStore()
			for i := range n {
				err := st.PutSubject(context.Background(), retention.Subject{ID: fmt.Sprintf("s%08d", i+1), State: states[(i+1)%6],
					Since: now.Add(-time.Duration((i+1)%365) * 24 * time.Hour), LastActive: now.Add(-time.Duration((i+1)%90) * 24 * time.Hour), HasKey: i%2 == 0})
				if err != nil {
					b.Fatal(err)
				}
			}
			return st
		}},
		{"sqlite", func(b *testing.B) retention.Store {
			db := testenv.SQLite(b)
			st := sqlstore.New(db, sqlstore.SQLite)
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			retentionSeedSQLite(b, db, n)
			return st.Retention()
		}},
		{"postgres", func(b *testing.B) retention.Store {
			db := testenv.Postgres(b)
			st := sqlstore.New(db, sqlstore.Postgres)
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			retentionSeedPostgres(b, db, n)
			return st.Retention()
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			ctx := context.Background()
			m, err := retention.New(st, retention.Config{BatchSize: batch, Logger: retentionQuiet(), Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			scan := func(b *testing.B) {
				count := 0
				for after := ""; ; {
					recs, err := st.ListSubjects(ctx, nil, after, batch)
					if err != nil {
						b.Fatal(err)
					}
					count += len(recs)
					if len(recs) < batch {
						break
					}
					after = recs[len(recs)-1].ID
				}
				if count != n {
					b.Fatalf("scanned %d, want %d", count, n)
				}
			}
			plan := func(b *testing.B) {
				count, steps := 0, 0
				if err := m.PlanAll(ctx, func(p retention.SubjectPlan) error {
					count++
					steps += len(p.Steps)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				if count != n || steps == 0 {
					b.Fatalf("planned %d subjects (%d steps), want %d", count, steps, n)
				}
			}
			perSubject := func(b *testing.B) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/subject")
			}
			b.Run("scan", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					scan(b)
				}
				perSubject(b)
			})
			b.Run("plan", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					plan(b)
				}
				perSubject(b)
			})
			// paired times a scan and a plan back to back in every
			// iteration, alternating which goes first, so that the load
			// of a shared machine weighs on both alike: plan/scan is the
			// figure the target (at most 1.3) is about.
			b.Run("paired", func(b *testing.B) {
				var tScan, tPlan time.Duration
				i := 0
				for b.Loop() {
					t0 := time.Now()
					if i%2 == 0 {
						scan(b)
						t1 := time.Now()
						plan(b)
						tScan, tPlan = tScan+t1.Sub(t0), tPlan+time.Since(t1)
					} else {
						plan(b)
						t1 := time.Now()
						scan(b)
						tPlan, tScan = tPlan+t1.Sub(t0), tScan+time.Since(t1)
					}
					i++
				}
				b.ReportMetric(float64(tPlan)/float64(tScan), "plan/scan")
			})
		})
	}
}

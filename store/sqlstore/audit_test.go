package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/audittest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestAuditConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			audittest.Run(t, func(t *testing.T) audit.Store {
				st, err := sqlstore.Open(context.Background(), be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Audit()
			})
		})
	}
}

// TestAuditSeveralPools simulates several app instances, each with its own
// pool and its own Log (group commit), appending to the same streams of one
// PostgreSQL schema at once: each stream must remain one unbroken chain.
func TestAuditSeveralPools(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	first, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
	require.NoError(t, err)
	require.NoError(t, first.Migrate(ctx))
	key := mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef")))
	const instances, workers, each = 4, 8, 25
	var wg sync.WaitGroup
	for i := range instances {
		st, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
		require.NoError(t, err)
		l := mustLog(audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 100, InFlight: 1 + i%2}))
		for w := range workers {
			wg.Go(func() {
				for n := range each {
					_, err := l.Append(ctx, audit.Entry{Tenant: fmt.Sprint("t", (w+n)%3), Actor: fmt.Sprint(i, "-", w),
						Action: "record.updated", TargetID: fmt.Sprint(n)})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	l := mustLog(audit.New(first.Audit(), audit.Config{Signer: key}))
	total := 0
	for s := range 3 {
		rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: fmt.Sprint("t", s)}))
		require.NoError(t, err)
		total += rep.Records
	}
	require.Equal(t, instances*workers*each, total)
}

// TestAuditDetectsDatabaseEdits tampers with the tables directly, as someone
// with database access would, and checks that Verify notices each edit.
func TestAuditDetectsDatabaseEdits(t *testing.T) {
	t.Parallel()
	key := mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef")))
	edits := []struct {
		name    string
		sql     func(body []byte) (string, []any)
		problem string
	}{
		{"rewrite body", func(body []byte) (string, []any) {
			return `UPDATE bulwark_audit_events SET body = $1 WHERE stream = 't' AND seq = 5`, []any{body}
		}, audit.ProblemHash},
		{"delete row", func([]byte) (string, []any) {
			return `DELETE FROM bulwark_audit_events WHERE stream = 't' AND seq = 7`, nil
		}, audit.ProblemSequence},
		{"truncate tail and head", func([]byte) (string, []any) {
			return `DELETE FROM bulwark_audit_events WHERE stream = 't' AND seq > 15`, nil
		}, audit.ProblemTruncated},
	}
	for _, be := range testenv.SQLDBs() {
		for _, e := range edits {
			t.Run(be.Name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st, err := sqlstore.Open(ctx, be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(ctx))
				l := mustLog(audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 10}))
				for i := range 20 {
					_, err := l.Append(ctx, audit.Entry{Tenant: "t", Actor: "u", Action: "record.updated", TargetID: fmt.Sprint(i)})
					require.NoError(t, err)
				}
				_, err = l.Verify(ctx, audit.VerifyOptions{Stream: "t"})
				require.NoError(t, err)
				recs, err := st.Audit().Records(ctx, "t", 5, 1)
				require.NoError(t, err)
				forged := recs[0]
				forged.Actor = "mallory"
				body, err := canonical(forged)
				require.NoError(t, err)
				q, args := e.sql(body)
				_, err = sqlstore.DBOf(st).ExecContext(ctx, st.Rebind(q), args...)
				require.NoError(t, err)
				if e.problem == audit.ProblemTruncated {
					// Move the head back as well, so only the checkpoint at 20 tells.
					_, err = sqlstore.DBOf(st).ExecContext(ctx, st.Rebind(`UPDATE bulwark_audit_heads SET seq = 15, hash = (SELECT hash FROM bulwark_audit_events WHERE stream = 't' AND seq = 15) WHERE stream = 't'`))
					require.NoError(t, err)
				}
				_, err = l.Verify(ctx, audit.VerifyOptions{Stream: "t"})
				var ce *audit.ChainError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, e.problem, ce.Problem)
			})
		}
	}
}

// TestAuditFilterColumnsTampered is the attack of the filter-column issue:
// one UPDATE of the denormalised actor, ip, action and target_id columns of
// six signed, checkpointed events hides them from Query and the access
// report. VerifyAll must report it, and Query must never return a row whose
// columns disagree with its body.
func TestAuditFilterColumnsTampered(t *testing.T) {
	t.Parallel()
	key := mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef")))
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, be.Open(t))
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			l := mustLog(audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 4}))
			for i := range 12 {
				_, err := l.Append(ctx, audit.Entry{Tenant: "t", Actor: "alice", Action: "auth.login",
					Outcome: audit.Failure, IP: "192.0.2.7", TargetID: fmt.Sprint("acct", i%2)})
				require.NoError(t, err)
			}
			_, err = l.Checkpoint(ctx)
			require.NoError(t, err)
			_, err = l.Verify(ctx, audit.VerifyOptions{AllStreams: true})
			require.NoError(t, err)

			// Hide six checkpointed events from every filter.
			res, err := sqlstore.DBOf(st).ExecContext(ctx, `UPDATE bulwark_audit_events
				SET actor = 'nobody', ip = '198.51.100.1', action = 'noise.event', target_id = 'none'
				WHERE stream = 't' AND seq BETWEEN 3 AND 8`)
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			require.EqualValues(t, 6, n)

			_, err = l.Verify(ctx, audit.VerifyOptions{AllStreams: true})
			var ce *audit.ChainError
			require.ErrorAs(t, err, &ce, "VerifyAll must see the edited columns")
			require.ErrorIs(t, err, audit.ErrTampered)
			require.Equal(t, audit.ProblemColumn, ce.Problem)
			require.EqualValues(t, 3, ce.Seq)

			// Filters on the edited values must not return the rows whose
			// bodies say otherwise.
			for _, f := range []audit.Filter{
				{Tenant: "t", Actor: "nobody"},
				{Tenant: "t", IP: "198.51.100.1"},
				{Tenant: "t", ActionPrefix: "noise"},
				{Tenant: "t", TargetID: "none"},
				{Tenant: "t"},
			} {
				p, err := l.Query(ctx, f)
				require.ErrorIs(t, err, audit.ErrTampered, "filter %+v: %v", f, p.Records)
				require.Empty(t, p.Records)
			}
			// The access report reads auth events only, so rows moved out of
			// "auth" are for Verify to find (above); a row it does read with
			// an edited account must fail the report, not count for mallory.
			_, err = sqlstore.DBOf(st).ExecContext(ctx, `UPDATE bulwark_audit_events SET actor = 'mallory' WHERE stream = 't' AND seq = 10`)
			require.NoError(t, err)
			_, err = l.AccessReport(ctx, audit.Filter{Tenant: "t"})
			require.ErrorIs(t, err, audit.ErrTampered)
		})
	}
}

// TestAuditEveryColumnVerified edits each denormalised column of one row in
// turn: Verify must notice every one of them.
func TestAuditEveryColumnVerified(t *testing.T) {
	t.Parallel()
	edits := map[string]string{
		"id": `id = 'x'`, "at": `at = at + 1`, "actor": `actor = 'x'`, "action": `action = 'x.y'`,
		"target_type": `target_type = 'x'`, "target_id": `target_id = 'x'`, "outcome": `outcome = 'denied'`,
		"ip": `ip = '203.0.113.9'`,
	}
	for _, be := range testenv.SQLDBs() {
		for col, set := range edits {
			t.Run(be.Name+"/"+col, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st, err := sqlstore.Open(ctx, be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(ctx))
				l := mustLog(audit.New(st.Audit(), audit.Config{}))
				for i := range 5 {
					_, err := l.Append(ctx, audit.Entry{Tenant: "t", Actor: "u", Action: "record.updated",
						TargetType: "invoice", TargetID: fmt.Sprint(i), IP: "192.0.2.1"})
					require.NoError(t, err)
				}
				_, err = sqlstore.DBOf(st).ExecContext(ctx, `UPDATE bulwark_audit_events SET `+set+` WHERE stream = 't' AND seq = 2`)
				require.NoError(t, err)
				_, err = l.Verify(ctx, audit.VerifyOptions{Stream: "t"})
				var ce *audit.ChainError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, audit.ProblemColumn, ce.Problem)
				require.EqualValues(t, 2, ce.Seq)
			})
		}
	}
}

// auditTxEnv opens a store with a host table next to the audit tables.
func auditTxEnv(t *testing.T, db *sql.DB) (*sqlstore.Store, *audit.Log) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	_, err = sqlstore.DBOf(st).ExecContext(ctx, `CREATE TABLE host_clients (id TEXT PRIMARY KEY, name TEXT NOT NULL)`)
	require.NoError(t, err)
	key := mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef")))
	return st, mustLog(audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 7}))
}

// createClient inserts a host row and its audit record in one transaction,
// then commits, rolls back, or has its context cancelled before commit.
func createClient(ctx context.Context, st *sqlstore.Store, l *audit.Log, id, end string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx, err := sqlstore.DBOf(st).BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, st.Rebind(`INSERT INTO host_clients (id, name) VALUES ($1, $2)`), id, "n"); err != nil {
		return err
	}
	if _, err := l.AppendTx(ctx, st.Audit().Tx(tx), audit.Entry{Tenant: "t", Actor: "u", Action: "client.created",
		TargetType: "client", TargetID: id}); err != nil {
		return err
	}
	switch end {
	case "rollback":
		return tx.Rollback()
	case "cancel":
		cancel()
	}
	return tx.Commit()
}

func hostRows(t *testing.T, st *sqlstore.Store, id string) int {
	var n int
	require.NoError(t, sqlstore.DBOf(st).QueryRowContext(context.Background(),
		st.Rebind(`SELECT COUNT(*) FROM host_clients WHERE id = $1`), id).Scan(&n))
	return n
}

func auditRows(t *testing.T, l *audit.Log, id string) int {
	p, err := l.Query(context.Background(), audit.Filter{Tenant: "t", TargetID: id, Limit: 1000})
	require.NoError(t, err)
	return len(p.Records)
}

// TestAuditAppendTx: a change and its record commit together; a change
// rolled back after its append leaves no record; a request cancelled
// before commit leaves neither the change nor the record.
func TestAuditAppendTx(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, l := auditTxEnv(t, be.Open(t))
			_, err := l.Append(ctx, audit.Entry{Tenant: "t", Action: "app.started"})
			require.NoError(t, err)

			require.NoError(t, createClient(ctx, st, l, "c1", "commit"))
			require.Equal(t, 1, hostRows(t, st, "c1"))
			require.Equal(t, 1, auditRows(t, l, "c1"))

			require.NoError(t, createClient(ctx, st, l, "c2", "rollback"))
			require.Equal(t, 0, hostRows(t, st, "c2"))
			require.Equal(t, 0, auditRows(t, l, "c2"), "a rolled-back change leaves no record")

			err = createClient(ctx, st, l, "c3", "cancel")
			require.Error(t, err, "commit after cancel fails")
			require.Equal(t, hostRows(t, st, "c3"), auditRows(t, l, "c3"), "neither or both")
			require.Equal(t, 0, hostRows(t, st, "c3"))

			_, err = l.Append(ctx, audit.Entry{Tenant: "t", Action: "app.stopped"})
			require.NoError(t, err)
			rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "t"}))
			require.NoError(t, err)
			require.Equal(t, 3, rep.Records)
		})
	}
}

// TestAuditAppendTxConcurrent mixes transactional appends (half of them
// rolled back) with group-committed appends, from several instances with
// their own pools on PostgreSQL (one pool on SQLite), on one stream: the
// chain must stay whole and hold exactly the committed records.
func TestAuditAppendTxConcurrent(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			type instance struct {
				st *sqlstore.Store
				l  *audit.Log
			}
			var instances []instance
			if be.Name == "postgres" {
				// Three app instances, each with its own pool and Log, on
				// one schema.
				dsn := testenv.PostgresDSN(t)
				st, l := auditTxEnv(t, testenv.OpenPostgres(t, dsn))
				instances = append(instances, instance{st, l})
				for range 2 {
					other, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
					require.NoError(t, err)
					instances = append(instances, instance{other, mustLog(audit.New(other.Audit(), audit.Config{
						Signer: mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef"))), CheckpointEvery: 7}))})
				}
			} else {
				st, l := auditTxEnv(t, be.Open(t))
				instances = append(instances, instance{st, l})
			}
			st, l := instances[0].st, instances[0].l
			const workers, each = 6, 12
			var wg sync.WaitGroup
			var mu sync.Mutex
			committed := 0
			for w := range workers {
				in := instances[w%len(instances)]
				wg.Go(func() {
					for i := range each {
						id := fmt.Sprint(w, "-", i)
						var err error
						switch i % 3 {
						case 0:
							_, err = in.l.Append(ctx, audit.Entry{Tenant: "t", Action: "plain.event", TargetID: id})
							if err == nil {
								mu.Lock()
								committed++
								mu.Unlock()
							}
						case 1:
							err = createClient(ctx, in.st, in.l, id, "commit")
							if err == nil {
								mu.Lock()
								committed++
								mu.Unlock()
							}
						default:
							err = createClient(ctx, in.st, in.l, id, "rollback")
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "t"}))
			require.NoError(t, err)
			require.Equal(t, committed, rep.Records)
			require.Equal(t, workers*each*2/3, committed)
			var hosts int
			require.NoError(t, sqlstore.DBOf(st).QueryRowContext(ctx, `SELECT COUNT(*) FROM host_clients`).Scan(&hosts))
			require.Equal(t, workers*each/3, hosts)
		})
	}
}

// TestAuditAppendTxStaleSnapshot: the host's transaction took its snapshot
// (REPEATABLE READ or SERIALIZABLE on PostgreSQL)
// before another append moved the stream's head. (On SQLite with the
// documented _txlock=immediate, the host's transaction holds the write
// lock from BEGIN, so no other append can commit meanwhile.) AppendTx must then fail, not link after the head its snapshot
// shows: two records with one seq, or a record whose prev is not its
// predecessor's hash, would break the chain for good.
func TestAuditAppendTxStaleSnapshot(t *testing.T) {
	t.Parallel()
	levels := map[string][]sql.IsolationLevel{
		"postgres": {sql.LevelRepeatableRead, sql.LevelSerializable},
	}
	for _, be := range testenv.SQLDBs() {
		for _, level := range levels[be.Name] {
			t.Run(be.Name+"/"+level.String(), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st, l := auditTxEnv(t, be.Open(t))
				_, err := l.Append(ctx, audit.Entry{Tenant: "t", Action: "app.started"})
				require.NoError(t, err)

				tx, err := sqlstore.DBOf(st).BeginTx(ctx, &sql.TxOptions{Isolation: level})
				require.NoError(t, err)
				defer func() { _ = tx.Rollback() }()
				var n int
				require.NoError(t, tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bulwark_audit_heads`).Scan(&n))

				// Another request appends and commits after the snapshot.
				_, err = l.Append(ctx, audit.Entry{Tenant: "t", Action: "app.other"})
				require.NoError(t, err)

				_, err = tx.ExecContext(ctx, st.Rebind(`INSERT INTO host_clients (id, name) VALUES ($1, $2)`), "c1", "n")
				if err == nil {
					_, err = l.AppendTx(ctx, st.Audit().Tx(tx), audit.Entry{Tenant: "t", Action: "client.created", TargetID: "c1"})
				}
				if err == nil {
					err = tx.Commit()
				}
				// Failing (a serialization error) is the fail-closed
				// answer, and leaves nothing; committing is fine only if the
				// record chained after the concurrent one.
				require.Equal(t, err == nil, hostRows(t, st, "c1") == 1, "change and record together: %v", err)
				_, err = l.Append(ctx, audit.Entry{Tenant: "t", Action: "app.stopped"})
				require.NoError(t, err)
				rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "t"}))
				require.NoError(t, err)
				require.Equal(t, 3+hostRows(t, st, "c1"), rep.Records)
			})
		}
	}
}

// TestAuditQuerySubMicrosecondBounds: records keep microseconds, but a
// host's Since and Until (time.Now().Add(-time.Hour)) carry nanoseconds.
// The SQL bounds and the Log's own check of each record must agree, or a
// genuine record at the boundary is reported as tampered and the page
// refused.
func TestAuditQuerySubMicrosecondBounds(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, l := auditTxEnv(t, be.Open(t))
			at := time.Date(2026, 5, 1, 9, 0, 0, 7000, time.UTC)
			_, err := l.Append(ctx, audit.Entry{Tenant: "t", Actor: "u", Action: "record.updated", Time: at})
			require.NoError(t, err)
			for _, c := range []struct {
				name         string
				since, until time.Time
				want         int
			}{
				{"since just after", at.Add(500), time.Time{}, 0},
				{"since just before", at.Add(-500), time.Time{}, 1},
				{"until just after", time.Time{}, at.Add(500), 1},
				{"until just before", time.Time{}, at.Add(-500), 0},
			} {
				p, err := l.Query(ctx, audit.Filter{Tenant: "t", Since: c.since, Until: c.until})
				require.NoError(t, err, c.name)
				require.Len(t, p.Records, c.want, c.name)
			}
		})
	}
}

// mustLog unwraps audit.New for tests, whose configurations are valid.
func mustLog(l *audit.Log, err error) *audit.Log {
	if err != nil {
		panic(err)
	}
	return l
}

// canonical returns r's canonical encoding, the bytes its hash covers, as
// a store links it.
func canonical(r audit.Record) ([]byte, error) {
	c := audit.Chain{Head: audit.Head{Stream: r.Tenant, Seq: r.Seq - 1, Hash: r.Prev}}
	_, err := c.Link(r.Entry)
	return c.Encoded(), err
}

// verifyOne returns the report of the one stream Log.Verify was asked
// for (the last, on an error), for tests written per stream.
func verifyOne(reps []audit.VerifyReport, err error) (audit.VerifyReport, error) {
	var rep audit.VerifyReport
	if len(reps) > 0 {
		rep = reps[len(reps)-1]
	}
	return rep, err
}

// mustKey unwraps a key constructor for tests, whose keys are valid.
func mustKey[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

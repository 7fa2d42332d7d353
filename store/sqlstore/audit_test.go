package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
	key := audit.HMACKey{ID: "k", Key: []byte("0123456789abcdef0123456789abcdef")}
	const instances, workers, each = 4, 8, 25
	var wg sync.WaitGroup
	for i := range instances {
		st, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
		require.NoError(t, err)
		l := audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 100, InFlight: 1 + i%2})
		for w := range workers {
			wg.Go(func() {
				for n := range each {
					_, err := l.Append(ctx, audit.Event{Tenant: fmt.Sprint("t", (w+n)%3), Actor: fmt.Sprint(i, "-", w),
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
	l := audit.New(first.Audit(), audit.Config{Signer: key})
	total := 0
	for s := range 3 {
		rep, err := l.Verify(ctx, fmt.Sprint("t", s), audit.VerifyOptions{})
		require.NoError(t, err)
		total += rep.Records
	}
	require.Equal(t, instances*workers*each, total)
}

// TestAuditDetectsDatabaseEdits tampers with the tables directly, as someone
// with database access would, and checks that Verify notices each edit.
func TestAuditDetectsDatabaseEdits(t *testing.T) {
	t.Parallel()
	key := audit.HMACKey{ID: "k", Key: []byte("0123456789abcdef0123456789abcdef")}
	edits := []struct {
		name    string
		sql     func(body []byte) (string, []any)
		problem audit.Problem
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
				l := audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 10})
				for i := range 20 {
					_, err := l.Append(ctx, audit.Event{Tenant: "t", Actor: "u", Action: "record.updated", TargetID: fmt.Sprint(i)})
					require.NoError(t, err)
				}
				_, err = l.Verify(ctx, "t", audit.VerifyOptions{})
				require.NoError(t, err)
				recs, err := st.Audit().Records(ctx, "t", 5, 1)
				require.NoError(t, err)
				forged := recs[0]
				forged.Actor = "mallory"
				body, err := forged.MarshalBinary()
				require.NoError(t, err)
				q, args := e.sql(body)
				_, err = st.DB().ExecContext(ctx, st.Rebind(q), args...)
				require.NoError(t, err)
				if e.problem == audit.ProblemTruncated {
					// Move the head back as well, so only the checkpoint at 20 tells.
					_, err = st.DB().ExecContext(ctx, st.Rebind(`UPDATE bulwark_audit_heads SET seq = 15, hash = (SELECT hash FROM bulwark_audit_events WHERE stream = 't' AND seq = 15) WHERE stream = 't'`))
					require.NoError(t, err)
				}
				_, err = l.Verify(ctx, "t", audit.VerifyOptions{})
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
	key := audit.HMACKey{ID: "k", Key: []byte("0123456789abcdef0123456789abcdef")}
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, be.Open(t))
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			l := audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 4})
			for i := range 12 {
				_, err := l.Append(ctx, audit.Event{Tenant: "t", Actor: "alice", Action: audit.ActionLogin,
					Outcome: audit.Failure, IP: "192.0.2.7", TargetID: fmt.Sprint("acct", i%2)})
				require.NoError(t, err)
			}
			_, err = l.CheckpointAll(ctx)
			require.NoError(t, err)
			_, err = l.VerifyAll(ctx)
			require.NoError(t, err)

			// Hide six checkpointed events from every filter.
			res, err := st.DB().ExecContext(ctx, `UPDATE bulwark_audit_events
				SET actor = 'nobody', ip = '198.51.100.1', action = 'noise.event', target_id = 'none'
				WHERE stream = 't' AND seq BETWEEN 3 AND 8`)
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			require.EqualValues(t, 6, n)

			_, err = l.VerifyAll(ctx)
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
			_, err = st.DB().ExecContext(ctx, `UPDATE bulwark_audit_events SET actor = 'mallory' WHERE stream = 't' AND seq = 10`)
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
				l := audit.New(st.Audit(), audit.Config{})
				for i := range 5 {
					_, err := l.Append(ctx, audit.Event{Tenant: "t", Actor: "u", Action: "record.updated",
						TargetType: "invoice", TargetID: fmt.Sprint(i), IP: "192.0.2.1"})
					require.NoError(t, err)
				}
				_, err = st.DB().ExecContext(ctx, `UPDATE bulwark_audit_events SET `+set+` WHERE stream = 't' AND seq = 2`)
				require.NoError(t, err)
				_, err = l.Verify(ctx, "t", audit.VerifyOptions{})
				var ce *audit.ChainError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, audit.ProblemColumn, ce.Problem)
				require.EqualValues(t, 2, ce.Seq)
			})
		}
	}
}

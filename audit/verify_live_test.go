package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// liveStore lets another writer append (with its automatic checkpoint)
// right after Verify has read the head, as happens on a busy log.
type liveStore struct {
	audit.Store
	once   sync.Once
	writer *audit.Log
}

func (s *liveStore) Head(ctx context.Context, stream string) (audit.Head, error) {
	h, err := s.Store.Head(ctx, stream)
	s.once.Do(func() {
		for range 4 {
			if _, err := s.writer.Append(ctx, audit.Entry{Tenant: stream, Action: "record.updated"}); err != nil {
				panic(err)
			}
		}
	})
	return h, err
}

// Appends that land while Verify runs are not tampering: Verify (and so
// Prune and VerifyAll) must not report them as records beyond the head or
// a checkpoint beyond it.
func TestVerifyWhileAppending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := memstore.NewAuditStore()
	cfg := audit.Config{Signer: testKey, CheckpointEvery: 4}
	w := mustLog(audit.New(mem, cfg))
	for range 10 {
		_, err := w.Append(ctx, audit.Entry{Tenant: "t", Action: "record.updated"})
		require.NoError(t, err)
	}
	l := mustLog(audit.New(&liveStore{Store: mem, writer: w}, cfg))
	rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "t"}))
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Records, 10)

	l = mustLog(audit.New(&liveStore{Store: mem, writer: w}, cfg))
	_, err = l.Prune(ctx, "t", -time.Hour) // everything verified is old enough
	require.NoError(t, err)
	_, err = mustLog(audit.New(mem, cfg)).Verify(ctx, audit.VerifyOptions{Stream: "t"})
	require.NoError(t, err)
}

// lyingStore returns from Query records that do not match the filter, as a
// store whose filter columns were edited would.
type lyingStore struct{ audit.Store }

func (s lyingStore) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	f.Actor, f.IP, f.ActionPrefix, f.TargetID = "", "", "", ""
	return s.Store.Query(ctx, f)
}

// TestQueryRefusesRecordsOutsideFilter: whatever the store returns, Query
// and AccessReport never show a record whose own fields do not match the
// filter; they report tampering instead.
func TestQueryRefusesRecordsOutsideFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewAuditStore()
	l := mustLog(audit.New(st, audit.Config{}))
	for _, actor := range []string{"alice", "bob"} {
		_, err := l.Append(ctx, audit.Entry{Actor: actor, Action: audit.ActionLogin, Outcome: audit.Failure})
		require.NoError(t, err)
	}
	liar := mustLog(audit.New(lyingStore{st}, audit.Config{}))
	p, err := liar.Query(ctx, audit.Filter{Actor: "bob"})
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, audit.ProblemColumn, ce.Problem)
	require.Empty(t, p.Records)
	p, err = l.Query(ctx, audit.Filter{Actor: "bob"})
	require.NoError(t, err)
	require.Len(t, p.Records, 1)
}

// TestQueryAcceptsTiedRecords: ids are not unique (a host may set its own,
// say a request id, on several events of one request, with one time), so
// two genuine records may tie on (time, id). Query must return them, not
// report them as tampered: only a record out of order means edited columns.
func TestQueryAcceptsTiedRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, action := range []string{"order.placed", "order.paid"} {
		_, err := l.Append(ctx, audit.Entry{ID: "req-7", Time: at, Actor: "u", Action: action})
		require.NoError(t, err)
	}
	p, err := l.Query(ctx, audit.Filter{Actor: "u"})
	require.NoError(t, err)
	require.Len(t, p.Records, 2)
}

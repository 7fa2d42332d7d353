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
			if _, err := s.writer.Append(ctx, audit.Event{Tenant: stream, Action: "record.updated"}); err != nil {
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
	w := audit.New(mem, cfg)
	for range 10 {
		_, err := w.Append(ctx, audit.Event{Tenant: "t", Action: "record.updated"})
		require.NoError(t, err)
	}
	l := audit.New(&liveStore{Store: mem, writer: w}, cfg)
	rep, err := l.Verify(ctx, "t", audit.VerifyOptions{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Records, 10)

	l = audit.New(&liveStore{Store: mem, writer: w}, cfg)
	_, err = l.Prune(ctx, "t", -time.Hour) // everything verified is old enough
	require.NoError(t, err)
	_, err = audit.New(mem, cfg).Verify(ctx, "t", audit.VerifyOptions{})
	require.NoError(t, err)
}

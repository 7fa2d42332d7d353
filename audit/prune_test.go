package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// forgingStore is a store whose database was rewritten by an attacker
// without the checkpoint key: from record `from` on, every record was
// changed and re-hashed, and the head row was moved to the forged head.
type forgingStore struct {
	audit.Store
	forged map[uint64]audit.Record
	head   audit.Head
}

func forge(t *testing.T, st audit.Store, stream string, from uint64) *forgingStore {
	ctx := context.Background()
	recs, err := st.Records(ctx, stream, 1, 1<<20)
	require.NoError(t, err)
	prev := recs[from-2]
	c := audit.Chain{Head: audit.Head{Stream: stream, Seq: prev.Seq, Hash: prev.Hash}}
	f := &forgingStore{Store: st, forged: map[uint64]audit.Record{}}
	for _, r := range recs[from-1:] {
		ev := r.Entry
		ev.Actor = "mallory"
		nr, err := c.Link(ev)
		require.NoError(t, err)
		f.forged[nr.Seq] = nr
	}
	f.head = c.Head
	return f
}

func (f *forgingStore) Head(ctx context.Context, stream string) (audit.Head, error) {
	return f.head, nil
}

func (f *forgingStore) Records(ctx context.Context, stream string, from uint64, limit int) ([]audit.Record, error) {
	recs, err := f.Store.Records(ctx, stream, from, limit)
	for i := range recs {
		if r, ok := f.forged[recs[i].Seq]; ok {
			recs[i] = r
		}
	}
	return recs, err
}

// Pruning must not sign over a chain that no longer matches its
// checkpoints: otherwise the pruning checkpoint becomes a signed anchor
// for the forged records, the checkpoints that contradicted them fall
// before the anchor and are ignored, and Verify passes again.
func TestPruneRefusesTamperedChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	mem := memstore.NewAuditStore()
	cfg := audit.Config{Now: clk.Now, Signer: testKey, CheckpointEvery: 4}
	l := mustLog(audit.New(mem, cfg))
	for i := range 22 {
		clk.Add(time.Minute)
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "acme"}))
	require.NoError(t, err)
	require.Equal(t, uint64(20), rep.Signed, "checkpoints at 4, 8, ..., 20; records 21 and 22 not yet")

	fs := forge(t, mem, "acme", 6)
	forged := mustLog(audit.New(fs, cfg))
	_, err = forged.Verify(ctx, audit.VerifyOptions{Stream: "acme"})
	require.ErrorIs(t, err, audit.ErrTampered, "the checkpoint at 8 contradicts the forged records")

	// Prune everything but the last record (now = t0+22m; records at
	// t0+1m..t0+21m are older than 90s).
	_, err = forged.Prune(ctx, "acme", 90*time.Second)
	require.ErrorIs(t, err, audit.ErrTampered, "pruning must refuse a chain that fails verification")
	_, err = forged.Verify(ctx, audit.VerifyOptions{Stream: "acme"})
	require.ErrorIs(t, err, audit.ErrTampered, "the tampering must still be detected")
}

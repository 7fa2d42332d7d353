package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// table is a host table of encrypted values, keyed by row id.
type table struct {
	mu   sync.Mutex
	rows map[string][]byte
}

func (tb *table) ids() []string {
	ids := make([]string, 0, len(tb.rows))
	for id := range tb.rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (tb *table) NextBatch(_ context.Context, cursor string, limit int) ([]keyring.Record, string, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []keyring.Record
	next := cursor
	for _, id := range tb.ids() {
		if id <= cursor {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, keyring.Record{ID: id, Ciphertext: bytes.Clone(tb.rows[id]), AssociatedData: keyring.AD("t", "c", id)})
		next = id
	}
	return out, next, nil
}

func (tb *table) Replace(_ context.Context, ups []keyring.Update) error {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, u := range ups {
		if bytes.Equal(tb.rows[u.ID], u.Ciphertext) { // compare-and-set
			tb.rows[u.ID] = u.NewCiphertext
		}
	}
	return nil
}

func TestReEncrypt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{Now: clk.Now})
	tb := &table{rows: map[string][]byte{}}
	for i := range 25 {
		id := fmt.Sprintf("row%02d", i)
		ct, err := kr.Seal(ctx, []byte("value "+strconv.Itoa(i)), keyring.AD("t", "c", id))
		require.NoError(t, err)
		tb.rows[id] = ct
	}
	tb.rows["row99"] = nil // a NULL column
	oldID, err := keyring.KeyID(tb.rows["row00"])
	require.NoError(t, err)
	newID, err := kr.Admin().Rotate(ctx)
	require.NoError(t, err)

	// The first run is cancelled after two batches, as a deploy would.
	cctx, cancel := context.WithCancel(ctx)
	var checkpoints []keyring.Progress
	p, err := kr.Admin().ReEncrypt(cctx, tb, keyring.ReEncryptOptions{BatchSize: 10, Progress: func(p keyring.Progress) {
		checkpoints = append(checkpoints, p)
		if len(checkpoints) == 2 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "row19", p.Cursor)
	require.Equal(t, int64(20), p.ReEncrypted)
	require.False(t, p.Done)

	// Resume from the checkpoint.
	p, err = kr.Admin().ReEncrypt(ctx, tb, keyring.ReEncryptOptions{Cursor: p.Cursor, BatchSize: 10})
	require.NoError(t, err)
	require.True(t, p.Done)
	require.Equal(t, int64(6), p.Scanned)
	require.Equal(t, int64(5), p.ReEncrypted)

	// A second full pass, after RefreshInterval, finds nothing under old
	// keys: now the old key can be disabled.
	clk.Add(time.Minute)
	p, err = kr.Admin().ReEncrypt(ctx, tb, keyring.ReEncryptOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(26), p.Scanned)
	require.Zero(t, p.ReEncrypted)

	require.NoError(t, kr.Admin().SetState(ctx, oldID, keyring.Disabled))
	for id, ct := range tb.rows {
		if ct == nil {
			continue
		}
		kid, err := keyring.KeyID(ct)
		require.NoError(t, err)
		require.Equal(t, newID, kid)
		_, err = kr.Open(ctx, ct, keyring.AD("t", "c", id))
		require.NoError(t, err)
	}
}

func TestReEncryptStopsOnBadRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{})
	ct, err := kr.Seal(ctx, []byte("v"), keyring.AD("t", "c", "a"))
	require.NoError(t, err)
	tb := &table{rows: map[string][]byte{"a": ct, "b": ct}} // b's AD does not match
	_, err = kr.Admin().Rotate(ctx)
	require.NoError(t, err)
	p, err := kr.Admin().ReEncrypt(ctx, tb, keyring.ReEncryptOptions{BatchSize: 1})
	require.ErrorIs(t, err, keyring.ErrAuthFailed)
	require.Contains(t, err.Error(), `"b"`)
	require.Equal(t, "a", p.Cursor, "the checkpoint stops before the bad record")
	require.Equal(t, ct, tb.rows["b"], "nothing is dropped")
}

type failingSource struct{ table }

func (f *failingSource) Replace(context.Context, []keyring.Update) error {
	return errors.New("db down")
}

func TestReEncryptReplaceFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{})
	ct, err := kr.Seal(ctx, []byte("v"), keyring.AD("t", "c", "a"))
	require.NoError(t, err)
	_, err = kr.Admin().Rotate(ctx)
	require.NoError(t, err)
	src := &failingSource{table{rows: map[string][]byte{"a": ct}}}
	p, err := kr.Admin().ReEncrypt(ctx, src, keyring.ReEncryptOptions{})
	require.Error(t, err)
	require.Empty(t, p.Cursor, "the checkpoint does not pass unsaved records")
}

package keyring_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// countingStore counts reads of the keyring's keys.
type countingStore struct {
	keyring.Store
	calls atomic.Int64
}

func (s *countingStore) Keys(ctx context.Context) ([]keyring.Key, error) {
	s.calls.Add(1)
	return s.Store.Keys(ctx)
}

func (s *countingStore) Key(ctx context.Context, id uint32) (keyring.Key, error) {
	s.calls.Add(1)
	return s.Store.Key(ctx, id)
}

func (s *countingStore) AddUses(ctx context.Context, id uint32, n uint64) error {
	s.calls.Add(1)
	return s.Store.AddUses(ctx, id, n)
}

// TestHotPath pins what the benchmarks rely on: with the keys cached, Seal
// and Open do no store I/O and make one allocation (the output).
func TestHotPath(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.NewKeyringStore()}
	clk := newClock()
	kr := newKeyring(t, st, keyring.Config{Now: clk.Now, RefreshInterval: time.Hour})
	ad := keyring.AD("users", "email", "42")
	pt := make([]byte, 64)
	ct, err := kr.Seal(ctx, pt, ad)
	require.NoError(t, err)
	before := st.calls.Load()
	sealAllocs := testing.AllocsPerRun(200, func() {
		if _, err := kr.Seal(ctx, pt, ad); err != nil {
			t.Fatal(err)
		}
	})
	openAllocs := testing.AllocsPerRun(200, func() {
		if _, err := kr.Open(ctx, ct, ad); err != nil {
			t.Fatal(err)
		}
	})
	require.Equal(t, before, st.calls.Load(), "no store I/O on the hot path")
	require.LessOrEqual(t, sealAllocs, 1.0)
	require.LessOrEqual(t, openAllocs, 1.0)
}

// TestRefreshWithDefaultClock covers the timer that marks the cache stale
// when no clock is injected: a rotation by one keyring reaches another's
// Seal after RefreshInterval.
func TestRefreshWithDefaultClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	cfg := keyring.Config{RefreshInterval: 20 * time.Millisecond}
	a, b := newKeyring(t, st, cfg), newKeyring(t, st, cfg)
	_, err := b.Seal(ctx, nil, nil)
	require.NoError(t, err)
	newID, err := a.Admin().Rotate(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ct, err := b.Seal(ctx, nil, nil)
		if err != nil {
			return false
		}
		id, _ := keyring.KeyID(ct)
		return id == newID
	}, 10*time.Second, 5*time.Millisecond)
}

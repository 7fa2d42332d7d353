package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/keyring/keyringtest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func keyringStore(t *testing.T, db *sql.DB) keyring.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), db)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	return st.Keyring()
}

func TestKeyringStoreConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			keyringtest.Run(t, func(t *testing.T) keyring.Store { return keyringStore(t, be.Open(t)) })
		})
	}
}

// TestKeyringConcurrentRotation runs two keyrings, each with its own
// connection pool as two app instances would have, rotating and using keys
// at the same time on one database. Afterwards no key is lost (every
// rotation's key is stored and every ciphertext opens in both) and there is
// exactly one primary.
func TestKeyringConcurrentRotation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		open func(t *testing.T) func() *sql.DB
	}{
		{"postgres", func(t *testing.T) func() *sql.DB {
			dsn := testenv.PostgresDSN(t)
			return func() *sql.DB { return testenv.OpenPostgres(t, dsn) }
		}},
		{"sqlite", func(t *testing.T) func() *sql.DB {
			path := testenv.SQLitePath(t)
			return func() *sql.DB { return testenv.OpenSQLite(t, path) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			open := tc.open(t)
			kek, err := keyring.NewLocalKEK(bytes.Repeat([]byte{9}, 32))
			require.NoError(t, err)
			const instances, rotations, seals = 2, 6, 5
			krs := make([]*keyring.Keyring, instances)
			for i := range krs {
				krs[i], err = keyring.New(keyringStore(t, open()), kek, keyring.Config{})
				require.NoError(t, err)
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				rotated []uint32
				cts     [][]byte
			)
			start := make(chan struct{})
			for _, kr := range krs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for r := range rotations {
						id, err := kr.Admin().Rotate(ctx)
						if err != nil {
							t.Errorf("rotate %d: %v", r, err)
							return
						}
						mu.Lock()
						rotated = append(rotated, id)
						mu.Unlock()
						for range seals {
							ct, err := kr.Seal(ctx, []byte("payload"), []byte("ad"))
							if err != nil {
								t.Errorf("seal: %v", err)
								return
							}
							mu.Lock()
							cts = append(cts, ct)
							mu.Unlock()
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			require.False(t, t.Failed())

			keys, err := krs[0].Admin().Keys(ctx)
			require.NoError(t, err)
			stored := map[uint32]keyring.State{}
			primaries := 0
			for _, k := range keys {
				stored[k.ID] = k.State
				if k.State == keyring.Primary {
					primaries++
				}
			}
			require.Equal(t, 1, primaries, "exactly one primary: %v", stored)
			require.Len(t, rotated, instances*rotations)
			for _, id := range rotated {
				require.Contains(t, stored, id, "no rotation's key is lost")
			}
			for _, kr := range krs {
				for _, ct := range cts {
					pt, err := kr.Open(ctx, ct, []byte("ad"))
					require.NoError(t, err)
					require.Equal(t, "payload", string(pt))
				}
			}
		})
	}
}

// TestKeyringOnSQL runs the keyring's main paths on both dialects:
// subject keys, the blind index and Rewrap.
func TestKeyringOnSQL(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := keyringStore(t, be.Open(t))
			oldKEK, _ := keyring.NewLocalKEK(bytes.Repeat([]byte{1}, 32))
			newKEK, _ := keyring.NewLocalKEK(bytes.Repeat([]byte{2}, 32))
			kr, err := keyring.New(st, oldKEK, keyring.Config{})
			require.NoError(t, err)
			ad := keyring.AD("users", "email", "1")
			ct, err := kr.Seal(ctx, []byte("ada@example.com"), ad)
			require.NoError(t, err)
			sct, err := kr.SealFor(ctx, "user-1", []byte("address"), ad)
			require.NoError(t, err)
			idx, err := kr.BlindIndex(ctx, "users.email", []byte("ada@example.com"))
			require.NoError(t, err)

			n, err := kr.Admin().Rewrap(ctx, newKEK)
			require.NoError(t, err)
			require.Equal(t, 3, n)
			kr2, err := keyring.New(st, newKEK, keyring.Config{})
			require.NoError(t, err)
			pt, err := kr2.Open(ctx, ct, ad)
			require.NoError(t, err)
			require.Equal(t, "ada@example.com", string(pt))
			idx2, err := kr2.BlindIndex(ctx, "users.email", []byte("ada@example.com"))
			require.NoError(t, err)
			require.Equal(t, idx, idx2)
			pt, err = kr2.OpenFor(ctx, "user-1", sct, ad)
			require.NoError(t, err)
			require.Equal(t, "address", string(pt))

			require.NoError(t, kr2.Admin().DestroySubjectKey(ctx, "user-1"))
			_, err = kr2.OpenFor(ctx, "user-1", sct, ad)
			require.ErrorIs(t, err, keyring.ErrUnknownKey)
		})
	}
}

package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKEK(t testing.TB, b byte) keyring.KEK {
	t.Helper()
	k, err := keyring.NewLocalKEK(bytes.Repeat([]byte{b}, 32))
	require.NoError(t, err)
	return k
}

func newKeyring(t testing.TB, st keyring.Store, cfg keyring.Config) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(st, testKEK(t, 1), cfg)
	require.NoError(t, err)
	return kr
}

func TestZeroConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr, err := keyring.New(memstore.NewKeyringStore(), testKEK(t, 1), keyring.Config{})
	require.NoError(t, err)
	ct, err := kr.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	require.Len(t, ct, 1+keyring.Overhead)
	adv, err := kr.Admin().RotationAdvice(ctx)
	require.NoError(t, err)
	require.False(t, adv.Rotate)
	require.Equal(t, uint64(1)<<32, adv.MaxUses, "default limit is NIST SP 800-38D's 2^32")
	keys, err := kr.Admin().Keys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, keyring.Primary, keys[0].State)
}

func TestNewRejectsNil(t *testing.T) {
	t.Parallel()
	_, err := keyring.New(nil, testKEK(t, 1), keyring.Config{})
	require.Error(t, err)
	_, err = keyring.New(memstore.NewKeyringStore(), nil, keyring.Config{})
	require.Error(t, err)
	_, err = keyring.New(memstore.NewKeyringStore(), testKEK(t, 1), keyring.Config{PreviousKEKs: []keyring.KEK{nil}})
	require.Error(t, err)
}

// TestRandFailure: a failing random source fails every operation that needs
// randomness, with an error, and never falls back to a fixed nonce or key.
func TestRandFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	good := newKeyring(t, st, keyring.Config{})
	ct, err := good.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	bad := newKeyring(t, st, keyring.Config{Rand: iotest.ErrReader(errors.New("no entropy"))})
	_, err = bad.Seal(ctx, []byte("x"), nil)
	require.Error(t, err)
	_, err = bad.Admin().Rotate(ctx)
	require.Error(t, err)
	_, err = bad.SealFor(ctx, "s", nil, nil)
	require.Error(t, err)
	pt, err := bad.Open(ctx, ct, nil)
	require.NoError(t, err, "decryption needs no randomness")
	require.Equal(t, "x", string(pt))
	_, err = keyring.NewPassphraseKEK(keyring.NewSecret([]byte("pw")), keyring.PassphraseParams{Rand: iotest.ErrReader(errors.New("no entropy"))})
	require.Error(t, err)
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{})
	for _, tc := range []struct {
		name   string
		pt, ad []byte
	}{
		{"empty", nil, nil},
		{"field", []byte("ada@example.com"), keyring.AD("users", "email", "1")},
		{"bulk", bytes.Repeat([]byte{7}, 1<<16), []byte("ad")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ct, err := kr.Seal(ctx, tc.pt, tc.ad)
			require.NoError(t, err)
			require.Len(t, ct, len(tc.pt)+keyring.Overhead)
			require.Equal(t, len(ct), cap(ct))
			got, err := kr.Open(ctx, ct, tc.ad)
			require.NoError(t, err)
			require.Equal(t, len(tc.pt), len(got))
			require.True(t, bytes.Equal(tc.pt, got))
			ct2, err := kr.Seal(ctx, tc.pt, tc.ad)
			require.NoError(t, err)
			require.NotEqual(t, ct, ct2, "random nonces make every ciphertext differ")
		})
	}
	s, err := kr.EncryptString(ctx, "héllo", []byte("ad"))
	require.NoError(t, err)
	got, err := kr.DecryptString(ctx, s, []byte("ad"))
	require.NoError(t, err)
	require.Equal(t, "héllo", got)
	_, err = kr.DecryptString(ctx, "not base64!", nil)
	require.ErrorIs(t, err, keyring.ErrTruncated)
}

func TestADBinding(t *testing.T) {
	t.Parallel()
	require.NotEqual(t, keyring.AD("a", "bc", "1"), keyring.AD("ab", "c", "1"))
	require.NotEqual(t, keyring.AD("a", "b", "1"), keyring.AD("a", "b", "1", "tenant"))
	require.Equal(t, keyring.AD("t", "c", "r"), keyring.AD("t", "c", "r"))
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	kr := newKeyring(t, st, keyring.Config{})
	ad := keyring.AD("users", "email", "1")
	ct, err := kr.Seal(ctx, []byte("ada@example.com"), ad)
	require.NoError(t, err)
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	subj, err := kr.SealFor(ctx, "u1", []byte("x"), nil)
	require.NoError(t, err)

	cases := []struct {
		name string
		ct   []byte
		ad   []byte
		want error
	}{
		{"nil", nil, ad, keyring.ErrTruncated},
		{"header only", ct[:5], ad, keyring.ErrTruncated},
		{"no tag", ct[:keyring.Overhead-1], ad, keyring.ErrTruncated},
		{"truncated body", ct[:len(ct)-1], ad, keyring.ErrAuthFailed},
		{"unknown format", append([]byte{9}, ct[1:]...), ad, keyring.ErrUnknownFormat},
		{"subject ciphertext", subj, nil, keyring.ErrUnknownFormat},
		{"unknown key id", flip(4), ad, keyring.ErrUnknownKey},
		{"tampered nonce", flip(6), ad, keyring.ErrAuthFailed},
		{"tampered body", flip(20), ad, keyring.ErrAuthFailed},
		{"tampered tag", flip(len(ct) - 1), ad, keyring.ErrAuthFailed},
		{"wrong AD", ct, keyring.AD("users", "email", "2"), keyring.ErrAuthFailed},
		{"nil AD", ct, nil, keyring.ErrAuthFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := kr.Open(ctx, tc.ct, tc.ad)
			require.ErrorIs(t, err, tc.want)
			require.NotContains(t, err.Error(), "ada")
		})
	}

	t.Run("wrong KEK", func(t *testing.T) {
		t.Parallel()
		other, err := keyring.New(st, testKEK(t, 2), keyring.Config{})
		require.NoError(t, err)
		_, err = other.Open(ctx, ct, ad)
		require.ErrorIs(t, err, keyring.ErrWrongKEK)
		_, err = other.Seal(ctx, []byte("x"), nil)
		require.ErrorIs(t, err, keyring.ErrWrongKEK)
		_, err = other.OpenFor(ctx, "u1", subj, nil)
		require.ErrorIs(t, err, keyring.ErrWrongKEK)
		_, err = other.BlindIndex(ctx, "d", []byte("v"))
		require.NoError(t, err, "first use creates the index key with this KEK")
	})
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var events []keyring.EventType
	var mu sync.Mutex
	clk := newClock()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{Now: clk.Now, Hook: func(_ context.Context, e keyring.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e.Type)
	}})
	ad := []byte("ad")
	ct1, err := kr.Seal(ctx, []byte("one"), ad)
	require.NoError(t, err)
	id1, err := keyring.KeyID(ct1)
	require.NoError(t, err)

	require.ErrorIs(t, kr.Admin().SetState(ctx, id1, keyring.Disabled), keyring.ErrPrimaryKey)
	require.ErrorIs(t, kr.Admin().Destroy(ctx, id1), keyring.ErrPrimaryKey)
	require.ErrorIs(t, kr.Admin().SetState(ctx, 12345, keyring.Disabled), keyring.ErrUnknownKey)
	require.ErrorIs(t, kr.Admin().SetState(ctx, 0, keyring.Primary), keyring.ErrUnknownKey)
	require.Error(t, kr.Admin().SetState(ctx, id1, keyring.State("bogus")), "an unknown state is refused, not stored")

	id2, err := kr.Admin().Rotate(ctx)
	require.NoError(t, err)
	require.NotEqual(t, id1, id2)
	ct2, err := kr.Seal(ctx, []byte("two"), ad)
	require.NoError(t, err)
	got, err := keyring.KeyID(ct2)
	require.NoError(t, err)
	require.Equal(t, id2, got, "new primary encrypts")
	pt, err := kr.Open(ctx, ct1, ad)
	require.NoError(t, err, "old key still decrypts")
	require.Equal(t, "one", string(pt))

	require.ErrorIs(t, kr.Admin().Destroy(ctx, id1), keyring.ErrKeyEnabled)
	require.ErrorIs(t, kr.Admin().SetState(ctx, id1, keyring.Disabled), keyring.ErrKeyInUse, "just demoted: others may still use it")
	clk.Add(time.Minute)
	require.NoError(t, kr.Admin().SetState(ctx, id1, keyring.Disabled))
	_, err = kr.Open(ctx, ct1, ad)
	require.ErrorIs(t, err, keyring.ErrKeyDisabled)
	require.ErrorIs(t, kr.Admin().SetState(ctx, id1, keyring.Primary), keyring.ErrKeyDisabled)
	require.NoError(t, kr.Admin().SetState(ctx, id1, keyring.Enabled))
	_, err = kr.Open(ctx, ct1, ad)
	require.NoError(t, err, "re-enabling restores access")
	require.NoError(t, kr.Admin().SetState(ctx, id1, keyring.Primary))
	clk.Add(time.Minute)
	require.NoError(t, kr.Admin().SetState(ctx, id2, keyring.Disabled))
	require.NoError(t, kr.Admin().Destroy(ctx, id2))
	_, err = kr.Open(ctx, ct2, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)

	keys, err := kr.Admin().Keys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, id1, keys[0].ID)

	// Add without promoting: the primary keeps encrypting.
	id3, err := kr.Admin().AddKey(ctx)
	require.NoError(t, err)
	ct3, err := kr.Seal(ctx, []byte("three"), ad)
	require.NoError(t, err)
	got, err = keyring.KeyID(ct3)
	require.NoError(t, err)
	require.Equal(t, id1, got)
	require.NoError(t, kr.Admin().SetState(ctx, id3, keyring.Primary))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []keyring.EventType{
		keyring.EventKeyAdded, keyring.EventKeyPromoted, // first Seal
		keyring.EventKeyAdded, keyring.EventKeyPromoted, // Rotate
		keyring.EventKeyDisabled, keyring.EventKeyEnabled, keyring.EventKeyPromoted,
		keyring.EventKeyDisabled, keyring.EventKeyDestroyed,
		keyring.EventKeyAdded, keyring.EventKeyPromoted,
	}, events)
}

// TestTwoProcesses shows a rotation by one keyring reaching another that
// shares its store: it opens new ciphertexts at once, and encrypts under
// the new key after RefreshInterval.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	clk := newClock()
	cfg := keyring.Config{Now: clk.Now, RefreshInterval: time.Minute}
	a, b := newKeyring(t, st, cfg), newKeyring(t, st, cfg)
	ctA, err := a.Seal(ctx, []byte("a"), nil)
	require.NoError(t, err)
	ctB, err := b.Seal(ctx, []byte("b"), nil)
	require.NoError(t, err)
	idA, _ := keyring.KeyID(ctA)
	idB, _ := keyring.KeyID(ctB)
	require.Equal(t, idA, idB, "both use the one primary")

	newID, err := a.Admin().Rotate(ctx)
	require.NoError(t, err)
	ctNew, err := a.Seal(ctx, []byte("new"), nil)
	require.NoError(t, err)
	pt, err := b.Open(ctx, ctNew, nil)
	require.NoError(t, err, "b loads the new key on demand")
	require.Equal(t, "new", string(pt))

	clk.Add(2 * time.Minute)
	ct, err := b.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	id, _ := keyring.KeyID(ct)
	require.Equal(t, newID, id, "b encrypts under the new primary after refresh")

	// A key disabled by a reaches b at its next refresh.
	require.NoError(t, a.Admin().SetState(ctx, idA, keyring.Disabled))
	_, err = b.Open(ctx, ctA, nil)
	require.NoError(t, err, "cached until refresh")
	require.NoError(t, b.Admin().Sync(ctx))
	_, err = b.Open(ctx, ctA, nil)
	require.ErrorIs(t, err, keyring.ErrKeyDisabled)
}

func TestConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr := newKeyring(t, st, keyring.Config{})
			for range 20 {
				ct, err := kr.Seal(ctx, []byte("x"), nil)
				if !assertNoErr(t, err) {
					return
				}
				_, err = kr.Open(ctx, ct, nil)
				assertNoErr(t, err)
			}
		}()
	}
	wg.Wait()
	keys, err := st.Keys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1, "racing first uses create one primary")
}

func assertNoErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

func TestUsageLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	var advised []keyring.Event
	clk := newClock()
	kr := newKeyring(t, st, keyring.Config{
		Now: clk.Now, MaxEncryptions: 5, RotateAfterEncryptions: 3, UsageFlushEvery: 2,
		Hook: func(_ context.Context, e keyring.Event) {
			if e.Type == keyring.EventRotationAdvised {
				advised = append(advised, e)
			}
		},
	})
	for i := range 5 {
		_, err := kr.Seal(ctx, []byte("x"), nil)
		require.NoError(t, err, "seal %d", i)
	}
	_, err := kr.Seal(ctx, []byte("x"), nil)
	require.ErrorIs(t, err, keyring.ErrUsageLimit)
	require.Len(t, advised, 1)
	require.Equal(t, uint64(3), advised[0].Count)

	adv, err := kr.Admin().RotationAdvice(ctx)
	require.NoError(t, err)
	require.True(t, adv.Rotate)
	require.Equal(t, "usage", adv.Reason)
	require.Equal(t, uint64(5), adv.Uses)
	keys, err := st.Keys(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(5), keys[0].Uses, "counts reach the store")

	_, err = kr.Admin().Rotate(ctx)
	require.NoError(t, err)
	_, err = kr.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err, "a fresh key has a fresh budget")
	require.NoError(t, kr.Admin().Sync(ctx))

	// Counts survive across processes: another keyring sees them.
	other := newKeyring(t, st, keyring.Config{Now: clk.Now, MaxEncryptions: 5})
	adv, err = other.Admin().RotationAdvice(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), adv.Uses)

	clk.Add(366 * 24 * time.Hour)
	adv, err = other.Admin().RotationAdvice(ctx)
	require.NoError(t, err)
	require.True(t, adv.Rotate)
	require.Equal(t, "age", adv.Reason)
}

func TestSubjectKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	clk := newClock()
	cfg := keyring.Config{Now: clk.Now, RefreshInterval: time.Minute}
	kr, other := newKeyring(t, st, cfg), newKeyring(t, st, cfg)
	ad := []byte("ad")
	ct, err := kr.SealFor(ctx, "alice", []byte("alice's data"), ad)
	require.NoError(t, err)
	ctBob, err := kr.SealFor(ctx, "bob", []byte("bob's data"), ad)
	require.NoError(t, err)
	pt, err := other.OpenFor(ctx, "alice", ct, ad)
	require.NoError(t, err)
	require.Equal(t, "alice's data", string(pt))

	_, err = kr.OpenFor(ctx, "bob", ct, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownKey, "another subject's key does not open it")
	_, err = kr.Open(ctx, ct, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownFormat)
	_, err = kr.SealFor(ctx, "", nil, nil)
	require.ErrorIs(t, err, keyring.ErrInvalidSubject)
	require.ErrorIs(t, kr.Admin().DestroySubjectKey(ctx, ""), keyring.ErrInvalidSubject)

	require.NoError(t, kr.Admin().DestroySubjectKey(ctx, "alice"))
	require.NoError(t, kr.Admin().DestroySubjectKey(ctx, "alice"), "idempotent")
	_, err = kr.OpenFor(ctx, "alice", ct, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)
	clk.Add(2 * time.Minute)
	_, err = other.OpenFor(ctx, "alice", ct, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownKey, "other processes drop the key after RefreshInterval")
	pt, err = other.OpenFor(ctx, "bob", ctBob, ad)
	require.NoError(t, err, "other subjects are untouched")
	require.Equal(t, "bob's data", string(pt))

	// A new key for a returning subject does not open the old data.
	ct2, err := kr.SealFor(ctx, "alice", []byte("new"), ad)
	require.NoError(t, err)
	_, err = kr.OpenFor(ctx, "alice", ct, ad)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)
	pt, err = other.OpenFor(ctx, "alice", ct2, ad)
	require.NoError(t, err)
	require.Equal(t, "new", string(pt))
}

func TestSubjectCacheBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{SubjectCacheSize: 2})
	var cts [][]byte
	subjects := []string{"a", "b", "c", "d"}
	for _, s := range subjects {
		ct, err := kr.SealFor(ctx, s, []byte(s), nil)
		require.NoError(t, err)
		cts = append(cts, ct)
	}
	for i, s := range subjects {
		pt, err := kr.OpenFor(ctx, s, cts[i], nil)
		require.NoError(t, err)
		require.Equal(t, s, string(pt))
	}
}

func TestBlindIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	a, b := newKeyring(t, st, keyring.Config{}), newKeyring(t, st, keyring.Config{})
	x1, err := a.BlindIndex(ctx, "users.email", []byte("ada@example.com"))
	require.NoError(t, err)
	require.Len(t, x1, 32)
	x2, err := b.BlindIndex(ctx, "users.email", []byte("ada@example.com"))
	require.NoError(t, err)
	require.Equal(t, x1, x2, "deterministic across processes sharing a store")
	y, err := a.BlindIndex(ctx, "users.phone", []byte("ada@example.com"))
	require.NoError(t, err)
	require.NotEqual(t, x1, y, "domains are separated")
	z, err := a.BlindIndex(ctx, "users.email", []byte("bob@example.com"))
	require.NoError(t, err)
	require.NotEqual(t, x1, z)
	_, err = a.Admin().Rotate(ctx)
	require.NoError(t, err)
	s, err := a.BlindIndex(ctx, "users.email", []byte("ada@example.com"))
	require.NoError(t, err)
	require.Len(t, s, 32)
	require.Equal(t, x1, s, "stable across rotation of data keys")
	x3, err := newKeyring(t, st, keyring.Config{}).BlindIndex(ctx, "users.email", []byte("ada@example.com"))
	require.NoError(t, err)
	require.Equal(t, x1, x3, "stable across rotation of data keys")
	keys, err := a.Admin().Keys(ctx)
	require.NoError(t, err)
	for _, k := range keys {
		require.NotZero(t, k.ID, "the index key is not listed as a data key")
	}
}

func TestRewrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	oldKEK, newKEK := testKEK(t, 1), testKEK(t, 2)
	kr, err := keyring.New(st, oldKEK, keyring.Config{})
	require.NoError(t, err)
	ct, err := kr.Seal(ctx, []byte("data"), nil)
	require.NoError(t, err)
	_, err = kr.Admin().Rotate(ctx)
	require.NoError(t, err)
	sct, err := kr.SealFor(ctx, "alice", []byte("mine"), nil)
	require.NoError(t, err)
	idx, err := kr.BlindIndex(ctx, "d", []byte("v"))
	require.NoError(t, err)

	n, err := kr.Admin().Rewrap(ctx, newKEK)
	require.NoError(t, err)
	require.Equal(t, 4, n, "two data keys, the index key and a subject key")
	n, err = kr.Admin().Rewrap(ctx, newKEK)
	require.NoError(t, err)
	require.Zero(t, n, "a second run finds nothing to do")

	fresh, err := keyring.New(st, newKEK, keyring.Config{})
	require.NoError(t, err)
	pt, err := fresh.Open(ctx, ct, nil)
	require.NoError(t, err)
	require.Equal(t, "data", string(pt))
	pt, err = fresh.OpenFor(ctx, "alice", sct, nil)
	require.NoError(t, err)
	require.Equal(t, "mine", string(pt))
	idx2, err := fresh.BlindIndex(ctx, "d", []byte("v"))
	require.NoError(t, err)
	require.Equal(t, idx, idx2)

	stale, err := keyring.New(st, oldKEK, keyring.Config{})
	require.NoError(t, err)
	_, err = stale.Open(ctx, ct, nil)
	require.ErrorIs(t, err, keyring.ErrWrongKEK, "the old KEK no longer unwraps")
	during, err := keyring.New(st, oldKEK, keyring.Config{PreviousKEKs: []keyring.KEK{newKEK}})
	require.NoError(t, err)
	_, err = during.Open(ctx, ct, nil)
	require.NoError(t, err, "PreviousKEKs bridges the migration")
	_, err = kr.Admin().Rewrap(ctx, nil)
	require.Error(t, err)
}

// failingStore fails every call, to show the keyring fails closed.
type failingStore struct{ keyring.Store }

var errStoreDown = errors.New("store down")

func (failingStore) Keys(context.Context) ([]keyring.Key, error) { return nil, errStoreDown }
func (failingStore) Key(context.Context, uint32) (keyring.Key, error) {
	return keyring.Key{}, errStoreDown
}
func (failingStore) AddKey(context.Context, keyring.Key) error { return errStoreDown }
func (failingStore) SubjectKey(context.Context, string) (keyring.Key, error) {
	return keyring.Key{}, errStoreDown
}
func (failingStore) DeleteSubjectKey(context.Context, string) error { return errStoreDown }
func (failingStore) SetState(context.Context, uint32, keyring.State, time.Time) error {
	return errStoreDown
}

func TestStoreFailureFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newKeyring(t, failingStore{memstore.NewKeyringStore()}, keyring.Config{})
	good := newKeyring(t, memstore.NewKeyringStore(), keyring.Config{})
	ct, err := good.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	_, err = kr.Seal(ctx, []byte("x"), nil)
	require.ErrorIs(t, err, errStoreDown)
	_, err = kr.Open(ctx, ct, nil)
	require.ErrorIs(t, err, errStoreDown)
	_, err = kr.SealFor(ctx, "s", nil, nil)
	require.ErrorIs(t, err, errStoreDown)
	require.ErrorIs(t, kr.Admin().DestroySubjectKey(ctx, "s"), errStoreDown)
	_, err = kr.Admin().Rotate(ctx)
	require.ErrorIs(t, err, errStoreDown)
	require.ErrorIs(t, kr.Admin().SetState(ctx, 5, keyring.Primary), errStoreDown)
	_, err = kr.BlindIndex(ctx, "d", nil)
	require.ErrorIs(t, err, errStoreDown)
}

// downKEK is a KMS that cannot be reached.
type downKEK struct{}

var errKMSDown = errors.New("kms unreachable")

func (downKEK) Wrap(context.Context, []byte, []byte) ([]byte, error)   { return nil, errKMSDown }
func (downKEK) Unwrap(context.Context, []byte, []byte) ([]byte, error) { return nil, errKMSDown }

func TestKEKOutageIsNotWrongKEK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewKeyringStore()
	ct, err := newKeyring(t, st, keyring.Config{}).Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	// The current KEK is wrong and the previous one (a KMS) is down: the
	// outage is reported, not "wrong KEK".
	kr, err := keyring.New(st, testKEK(t, 9), keyring.Config{PreviousKEKs: []keyring.KEK{downKEK{}}})
	require.NoError(t, err)
	_, err = kr.Open(ctx, ct, nil)
	require.ErrorIs(t, err, errKMSDown)
	require.NotErrorIs(t, err, keyring.ErrWrongKEK)
	_, err = keyring.New(st, downKEK{}, keyring.Config{})
	require.NoError(t, err)
	kr2, _ := keyring.New(memstore.NewKeyringStore(), downKEK{}, keyring.Config{})
	_, err = kr2.Seal(ctx, []byte("x"), nil)
	require.ErrorIs(t, err, errKMSDown, "no key is created when the KEK cannot wrap")
}

// TestRewrapProcedureAcrossProcesses follows the documented multi-process
// KEK migration. Every process must wrap new keys under the new KEK before
// Rewrap runs: a key another process creates after Rewrap under the old
// KEK (a first SealFor, a rotation) is not rewrapped, and becomes
// unreadable once the old KEK is retired.
func TestRewrapProcedureAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldKEK, newKEK := testKEK(t, 1), testKEK(t, 2)

	// The order this test checks: 1. every process reads both KEKs;
	// 2. every process wraps with the new one; 3. Rewrap; 4. retire.
	st := memstore.NewKeyringStore()
	a, err := keyring.New(st, oldKEK, keyring.Config{PreviousKEKs: []keyring.KEK{newKEK}})
	require.NoError(t, err)
	ct, err := a.SealFor(ctx, "alice", []byte("a"), nil)
	require.NoError(t, err)
	a2, err := keyring.New(st, newKEK, keyring.Config{PreviousKEKs: []keyring.KEK{oldKEK}})
	require.NoError(t, err)
	b2, err := keyring.New(st, newKEK, keyring.Config{PreviousKEKs: []keyring.KEK{oldKEK}})
	require.NoError(t, err)
	_, err = a2.Admin().Rewrap(ctx, newKEK)
	require.NoError(t, err)
	bct, err := b2.SealFor(ctx, "bob", []byte("b"), nil) // after Rewrap
	require.NoError(t, err)
	retired, err := keyring.New(st, newKEK, keyring.Config{})
	require.NoError(t, err)
	pt, err := retired.OpenFor(ctx, "alice", ct, nil)
	require.NoError(t, err)
	require.Equal(t, "a", string(pt))
	pt, err = retired.OpenFor(ctx, "bob", bct, nil)
	require.NoError(t, err)
	require.Equal(t, "b", string(pt))

	// Rewrap before the switch (the order the docs used to give) loses a
	// key created in between.
	st = memstore.NewKeyringStore()
	a, err = keyring.New(st, oldKEK, keyring.Config{PreviousKEKs: []keyring.KEK{newKEK}})
	require.NoError(t, err)
	b, err := keyring.New(st, oldKEK, keyring.Config{PreviousKEKs: []keyring.KEK{newKEK}})
	require.NoError(t, err)
	_, err = a.Admin().Rewrap(ctx, newKEK)
	require.NoError(t, err)
	bct, err = b.SealFor(ctx, "bob", []byte("b"), nil)
	require.NoError(t, err)
	retired, err = keyring.New(st, newKEK, keyring.Config{})
	require.NoError(t, err)
	_, err = retired.OpenFor(ctx, "bob", bct, nil)
	require.ErrorIs(t, err, keyring.ErrWrongKEK)
}

package memstore_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestSessionStoreConformance(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, func(*testing.T) session.Store { return memstore.NewSessionStore() })
}

func TestSessionClosingConcurrent(t *testing.T) {
	t.Parallel()
	st := memstore.NewSessionStore()
	sessiontest.RunConcurrentClosing(t, func(*testing.T) []session.Store { return []session.Store{st, st, st, st} }, 30)
}

// cleaningStore is what memstore.NewSessionStore returns, with the
// optional session.Cleaner it implements.
type cleaningStore interface {
	session.Store
	session.Cleaner
}

// fillSessions returns a store with n sessions of n users, live until an
// hour after at.
func fillSessions(tb testing.TB, n int, at time.Time) cleaningStore {
	tb.Helper()
	st := memstore.NewSessionStore().(cleaningStore)
	for i := range n {
		var h [32]byte
		binary.BigEndian.PutUint64(h[:], uint64(i)+1)
		s := &session.Session{ID: strconv.Itoa(i), TokenHash: h, UserID: "u" + strconv.Itoa(i), CreatedAt: at, LastSeen: at,
			ExpiresAt: at.Add(time.Hour), AbsoluteExpiry: at.Add(time.Hour)}
		if _, err := st.Create(context.Background(), s, session.Limit{}, [32]byte{}); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

// Cleanup costs what expired, not the size of the store: with nothing
// expired, DeleteExpired on a store 100 times larger takes about as long.
// Compared within one run (the best of several tries each), so the
// machine's speed does not matter; a scan of the store makes the ratio
// about 100.
func TestSessionDeleteExpiredCostFollowsExpired(t *testing.T) {
	t0 := time.Now()
	small, large := fillSessions(t, 1_000, t0), fillSessions(t, 100_000, t0)
	best := func(st cleaningStore) time.Duration {
		b := time.Duration(1 << 62)
		for range 30 {
			start := time.Now()
			n, err := st.DeleteExpired(context.Background(), t0.Add(time.Minute), 1000)
			b = min(b, time.Since(start))
			require.NoError(t, err)
			require.Zero(t, n)
		}
		return b
	}
	s, l := best(small), best(large)
	require.Less(t, float64(l), 10*float64(max(s, time.Microsecond)),
		"DeleteExpired with nothing expired: %v on 100k sessions against %v on 1k", l, s)
}

// BenchmarkSessionCleanupStall runs a cleanup of a store of 1M sessions,
// half of them expired, while another goroutine validates a live session
// in a loop, and reports the validations seen during the cleanup: the
// worst (max-validate-µs) and the 99.9th percentile (p999-validate-µs),
// next to the same figures over as long a time with no cleanup running
// (idle-max-µs, idle-p999-µs), which is what the machine's own scheduling
// costs. On a loaded machine the worst case is mostly the OS's.
func BenchmarkSessionCleanupStall(b *testing.B) {
	const total = 1_000_000
	t0 := time.Now()
	ctx := context.Background()
	var during, idle []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st := fillSessions(b, total, t0)
		// Half expire a minute in: their idle window is a minute.
		for i := 0; i < total; i += 2 {
			var h [32]byte
			binary.BigEndian.PutUint64(h[:], uint64(i)+1)
			if err := st.MarkClosing(ctx, h, t0, t0, t0.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		m := mustSessions(b, st, session.Config{Now: func() time.Time { return t0.Add(2 * time.Minute) }})
		iss, err := m.Create(ctx, "validating", session.Login{})
		if err != nil {
			b.Fatal(err)
		}
		validate := func(done *atomic.Bool, out *[]time.Duration) {
			for !done.Load() {
				start := time.Now()
				if _, err := m.Validate(ctx, iss.Token); err != nil {
					b.Error(err)
					return
				}
				*out = append(*out, time.Since(start))
			}
		}
		runtime.GC()
		b.StartTimer()
		var done atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() { validate(&done, &during) })
		start := time.Now()
		n, err := m.Cleanup(ctx)
		took := time.Since(start)
		done.Store(true)
		wg.Wait()
		b.StopTimer()
		if err != nil || n != total/2 {
			b.Fatalf("cleanup deleted %d, %v", n, err)
		}
		// The same time with no cleanup, for comparison.
		done.Store(false)
		wg.Go(func() { validate(&done, &idle) })
		for end := time.Now().Add(took); time.Now().Before(end); {
			runtime.Gosched() // keep this goroutine busy, as the cleanup was
		}
		done.Store(true)
		wg.Wait()
		b.StartTimer()
	}
	report := func(ds []time.Duration, prefix string) {
		slices.Sort(ds)
		if len(ds) == 0 {
			return
		}
		b.ReportMetric(float64(ds[len(ds)-1].Microseconds()), prefix+"max-µs")
		b.ReportMetric(float64(ds[len(ds)*999/1000].Microseconds()), prefix+"p999-µs")
	}
	report(during, "validate-")
	report(idle, "idle-")
}

// The expiry index stays in proportion to the records the store holds,
// whatever the writes and whether or not the host ever calls Cleanup: a
// client that repeats the tab-close beacon and the time-left poll (each
// rewrites the expiry), or logs in and out over and over, must not grow
// the store's memory with each request.
func TestSessionExpiryIndexBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Now()
	const requests = 20_000
	tests := []struct {
		name string
		run  func(t *testing.T, m *session.Manager, now *time.Time)
	}{
		{"beacon and poll repeated", func(t *testing.T, m *session.Manager, _ *time.Time) {
			iss, err := m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err)
			// The beacon and the poll, as a page sends them.
			ck := &http.Cookie{Name: m.Config().CookieName, Value: iss.Token}
			beacon, poll := m.CloseHandler(), m.TimeLeftHandler()
			for range requests / 2 {
				r := httptest.NewRequest(http.MethodPost, "/session/close", nil)
				r.AddCookie(ck)
				w := httptest.NewRecorder()
				beacon.ServeHTTP(w, r)
				require.Equal(t, http.StatusNoContent, w.Code)
				r = httptest.NewRequest(http.MethodGet, "/session/time-left", nil)
				r.AddCookie(ck)
				w = httptest.NewRecorder()
				poll.ServeHTTP(w, r)
				require.Equal(t, http.StatusOK, w.Code)
			}
		}},
		{"rotations", func(t *testing.T, m *session.Manager, _ *time.Time) {
			iss, err := m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err)
			for range requests {
				iss, err = m.Rotate(ctx, iss.Token, nil)
				require.NoError(t, err)
			}
		}},
		{"logins and logouts", func(t *testing.T, m *session.Manager, _ *time.Time) {
			for range requests {
				iss, err := m.Create(ctx, "u1", session.Login{})
				require.NoError(t, err)
				require.NoError(t, m.Destroy(ctx, iss.Token))
			}
		}},
		{"activity", func(t *testing.T, m *session.Manager, now *time.Time) {
			iss, err := m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err)
			for range requests {
				*now = now.Add(m.Config().TouchInterval)
				_, err := m.Validate(ctx, iss.Token)
				require.NoError(t, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := memstore.NewSessionStore()
			now := t0
			m := mustSessions(t, st, session.Config{Now: func() time.Time { return now }, AbsoluteTimeout: requests * time.Hour})
			tc.run(t, m, &now)
			// One live session at most: a few entries, not one per request.
			require.LessOrEqual(t, memstore.SessionIndexLen(st), 200, "expiry index entries after %d requests", requests)
		})
	}
}

// After the expiry index is rebuilt, cleanup still deletes exactly the
// records that expired: the rebuild keeps one entry per record, at its
// current expiry.
func TestSessionExpiryIndexRebuildKeepsRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Microsecond) // what the other stores keep
	st := fillSessions(t, 300, t0)
	hashOf := func(i int) [32]byte {
		var h [32]byte
		binary.BigEndian.PutUint64(h[:], uint64(i)+1)
		return h
	}
	// Many rewrites (several rebuilds); session i ends up expiring i
	// seconds after t0.
	for round := range 10 {
		for i := range 300 {
			at := t0.Add(time.Duration(i+round+1) * time.Second)
			require.NoError(t, st.MarkClosing(ctx, hashOf(i), t0, t0, at))
		}
	}
	for i := range 300 {
		require.NoError(t, st.MarkClosing(ctx, hashOf(i), t0, t0, t0.Add(time.Duration(i+1)*time.Second)))
	}
	require.LessOrEqual(t, memstore.SessionIndexLen(st), 2*300+64)
	n, err := st.DeleteExpired(ctx, t0.Add(150*time.Second), 1000)
	require.NoError(t, err)
	require.Equal(t, 150, n, "the sessions expiring at or before the cut")
	for i := range 300 {
		_, err := st.Get(ctx, hashOf(i), t0)
		if i < 150 {
			require.ErrorIs(t, err, session.ErrNotFound, "session %d", i)
		} else {
			require.NoError(t, err, "session %d", i)
		}
	}
}

// mustSessions returns session.New(st, cfg), failing tb on an error.
func mustSessions(tb testing.TB, st session.Store, cfg session.Config) *session.Manager {
	tb.Helper()
	m, err := session.New(st, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

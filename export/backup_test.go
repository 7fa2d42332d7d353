package export_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// fakeClock hands every wait to the test, which advances time and fires.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan fakeWait
}

type fakeWait struct {
	d  time.Duration
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{now: t, waits: make(chan fakeWait)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- fakeWait{d, ch}
	return ch
}

// sleeping waits until the code under test sleeps (so the work before
// the sleep is done) and checks the duration.
func (c *fakeClock) sleeping(t *testing.T, want time.Duration) fakeWait {
	t.Helper()
	select {
	case w := <-c.waits:
		require.Equal(t, want, w.d)
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("no wait requested")
		return fakeWait{}
	}
}

// wake advances the clock by the wait's duration and ends it.
func (c *fakeClock) wake(w fakeWait) {
	c.mu.Lock()
	c.now = c.now.Add(w.d)
	now := c.now
	c.mu.Unlock()
	w.ch <- now
}

func backupNames(t *testing.T, dir string) []string {
	t.Helper()
	return dirEntries(t, dir)
}

func TestBackupsSchedule(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := newFakeClock(t0)
	var mu sync.Mutex
	var kinds []export.EventType
	f := newFixture(t, export.Config{Now: clock.Now, Hook: func(_ context.Context, ev export.Event) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, ev.Type)
	}})
	dir := t.TempDir()
	sink, err := export.NewDirSink(dir)
	require.NoError(t, err)
	cfg := export.BackupConfig{
		Request:  export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}},
		Interval: time.Hour, Keep: 2, Now: clock.Now, After: clock.After,
	}
	b, err := export.NewBackups(f.ex, sink, cfg)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	// Empty sink: a backup at once, then one per hour; the oldest pruned.
	w := clock.sleeping(t, time.Hour)
	require.Equal(t, []string{"bulwark-t1-20260102T030405.000Z.tar.age"}, backupNames(t, dir))
	clock.wake(w)
	clock.wake(clock.sleeping(t, time.Hour))
	clock.sleeping(t, time.Hour)
	require.Equal(t, []string{
		"bulwark-t1-20260102T040405.000Z.tar.age",
		"bulwark-t1-20260102T050405.000Z.tar.age",
	}, backupNames(t, dir))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	for _, n := range backupNames(t, dir) {
		in, err := os.Open(filepath.Join(dir, n))
		require.NoError(t, err)
		m, err := f.ex.Verify(context.Background(), in, export.ReadOptions{Identities: []age.Identity{id}})
		require.NoError(t, in.Close())
		require.NoError(t, err)
		require.Equal(t, "t1", m.Tenant)
	}
	mu.Lock()
	require.Contains(t, kinds, export.EventBackedUp)
	require.Contains(t, kinds, export.EventBackupPruned)
	mu.Unlock()

	// A restart 30 minutes after the newest backup waits the remaining 30.
	clock.mu.Lock()
	clock.now = clock.now.Add(30 * time.Minute)
	clock.mu.Unlock()
	b2, err := export.NewBackups(f.ex, sink, cfg)
	require.NoError(t, err)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- b2.Run(ctx2) }()
	clock.wake(clock.sleeping(t, 30*time.Minute))
	clock.sleeping(t, time.Hour)
	require.Equal(t, []string{
		"bulwark-t1-20260102T050405.000Z.tar.age",
		"bulwark-t1-20260102T060405.000Z.tar.age", // due an hour after the newest,
	}, backupNames(t, dir))
	cancel2()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestBackupsFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := newFixture(t, export.Config{})
	f.notes.fail = errors.New("disk on fire")
	dir := t.TempDir()
	sink, err := export.NewDirSink(dir)
	require.NoError(t, err)
	b, err := export.NewBackups(f.ex, sink, export.BackupConfig{
		Request:  export.Request{Scope: export.Scope{Tenant: "t1"}, Passphrase: "p"},
		Interval: time.Hour, Now: clock.Now, After: clock.After,
	})
	require.NoError(t, err)
	require.Equal(t, 7, b.Config().Keep)
	require.Equal(t, time.Hour/8, b.Config().RetryInterval)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	clock.sleeping(t, time.Hour/8) // retry after a failure
	require.Empty(t, dirEntries(t, dir), "no partial or temporary file")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

// leakySink ignores read errors, storing whatever it got; Backups must
// delete such a partial object.
type leakySink struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (s *leakySink) Put(_ context.Context, name string, r io.Reader) error {
	b, _ := io.ReadAll(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[name] = b
	return nil
}

func (s *leakySink) List(context.Context, string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.objs {
		out = append(out, n)
	}
	return out, nil
}

func (s *leakySink) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objs, name)
	return nil
}

func TestBackupsDeletesPartialFromLeakySink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	f.notes.fail = errors.New("boom")
	sink := &leakySink{objs: map[string][]byte{}}
	b, err := export.NewBackups(f.ex, sink, export.BackupConfig{
		Request: export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{newIdentity(t).Recipient()}}})
	require.NoError(t, err)
	_, err = b.RunOnce(context.Background())
	require.ErrorContains(t, err, "boom")
	require.Empty(t, sink.objs)
}

func TestBackupConfigErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	sink, err := export.NewDirSink(t.TempDir())
	require.NoError(t, err)
	enc := []age.Recipient{newIdentity(t).Recipient()}
	tests := []struct {
		name string
		cfg  export.BackupConfig
	}{
		{"plaintext", export.BackupConfig{Request: export.Request{Scope: export.Scope{Tenant: "t1"}}}},
		{"subject", export.BackupConfig{Request: export.Request{Scope: export.Scope{Tenant: "t1", Subject: "s"}, Recipients: enc}}},
		{"no tenant", export.BackupConfig{Request: export.Request{Recipients: enc}}},
		{"unsafe tenant for a name", export.BackupConfig{Request: export.Request{Scope: export.Scope{Tenant: "a/../b"}, Recipients: enc}}},
		{"plain archive", export.BackupConfig{Request: export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: enc, Archive: export.Plain, Modules: []string{"notes"}}}},
	}
	for _, tt := range tests {
		_, err := export.NewBackups(f.ex, sink, tt.cfg)
		require.ErrorIs(t, err, export.ErrInvalidRequest, tt.name)
	}
	// Plaintext is possible when asked for by name.
	_, err = export.NewBackups(f.ex, sink, export.BackupConfig{Request: export.Request{Scope: export.Scope{Tenant: "t1"}}, UnsafeAllowPlaintext: true})
	require.NoError(t, err)
}

func TestDirSink(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "backups")
	s, err := export.NewDirSink(dir)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, "a-1", bytes.NewReader([]byte("one"))))
	require.NoError(t, s.Put(ctx, "b-1", bytes.NewReader([]byte("two"))))
	names, err := s.List(ctx, "a-")
	require.NoError(t, err)
	require.Equal(t, []string{"a-1"}, names)

	// A failing reader leaves nothing.
	err = s.Put(ctx, "a-2", io.MultiReader(bytes.NewReader([]byte("partial")), errReader{}))
	require.Error(t, err)
	require.Equal(t, []string{"a-1", "b-1"}, dirEntries(t, dir))

	for _, bad := range []string{"", "../x", "a/b", ".hidden", "sp ace"} {
		require.ErrorIs(t, s.Put(ctx, bad, bytes.NewReader(nil)), export.ErrInvalidRequest, bad)
	}
	require.NoError(t, s.Delete(ctx, "a-1"))
	require.NoError(t, s.Delete(ctx, "a-1"), "deleting a missing object is fine")
	require.Equal(t, []string{"b-1"}, dirEntries(t, dir))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

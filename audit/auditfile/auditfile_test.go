package auditfile_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditfile"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/audit/audittest"
)

var key = mustKey(audit.NewHMACKey("k", []byte("0123456789abcdef0123456789abcdef")))

func open(t *testing.T, dir string) *auditfile.Store {
	t.Helper()
	s, err := auditfile.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	audittest.Run(t, func(t *testing.T) audit.Store { return open(t, t.TempDir()) })
}

func fill(t *testing.T, s audit.Store, n int) *audit.Log {
	t.Helper()
	l := mustLog(audit.New(s, audit.Config{Signer: key, CheckpointEvery: 10}))
	for i := range n {
		_, err := l.Append(context.Background(), audit.Entry{Tenant: fmt.Sprint("t", i%2), Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	return l
}

func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	fill(t, s, 45)
	_, err := auditfile.Open(dir)
	require.ErrorIs(t, err, auditfile.ErrLocked, "second opener is refused")
	require.NoError(t, s.Close())

	s2 := open(t, dir)
	require.Zero(t, s2.Recovered())
	l := mustLog(audit.New(s2, audit.Config{Signer: key}))
	for _, st := range []string{"t0", "t1"} {
		_, err := l.Verify(ctx, audit.VerifyOptions{Stream: st})
		require.NoError(t, err)
	}
	rec, err := l.Append(ctx, audit.Entry{Tenant: "t0", Action: "record.updated"})
	require.NoError(t, err)
	require.Equal(t, uint64(24), rec.Seq, "the chain continues after reopening")
}

// TestTornLastLine cuts the file in the middle of its last line, as a
// crash during a write would, and checks that Open drops just that line.
func TestTornLastLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	fill(t, s, 20)
	require.NoError(t, s.Close())
	path := filepath.Join(dir, "records.jsonl")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cut := len(data) - 40
	require.NoError(t, os.WriteFile(path, data[:cut], 0o600))

	s2 := open(t, dir)
	require.Positive(t, s2.Recovered())
	l := mustLog(audit.New(s2, audit.Config{Signer: key}))
	// The last record (t1, seq 10) is gone; the checkpoint at t1/10 shows it.
	_, err = l.Verify(ctx, audit.VerifyOptions{Stream: "t0"})
	require.NoError(t, err)
	_, err = l.Verify(ctx, audit.VerifyOptions{Stream: "t1"})
	require.ErrorIs(t, err, audit.ErrTampered)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, byte('\n'), after[len(after)-1], "file cut back to a line end")
	rec, err := l.Append(ctx, audit.Entry{Tenant: "t0", Action: "record.updated"})
	require.NoError(t, err)
	require.Equal(t, uint64(11), rec.Seq)
}

// TestFilesVerifyOffline: the store's own files, checkpoints first, are
// what auditverify -unattested reads. They carry no export manifest, so
// the strict VerifyJSONL refuses them.
func TestFilesVerifyOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	l := fill(t, s, 25)
	_, err := l.Checkpoint(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	cps, err := os.ReadFile(filepath.Join(dir, "checkpoints.jsonl"))
	require.NoError(t, err)
	recs, err := os.ReadFile(filepath.Join(dir, "records.jsonl"))
	require.NoError(t, err)
	_, err = auditjsonl.Verify(bytes.NewReader(append(cps, recs...)), auditjsonl.VerifyOptions{Verifier: key})
	require.ErrorIs(t, err, audit.ErrTampered, "no manifest: the range is not attested")
	reps, err := auditjsonl.Verify(bytes.NewReader(append(cps, recs...)), auditjsonl.VerifyOptions{Verifier: key, Unattested: true})
	require.NoError(t, err)
	require.Len(t, reps, 2)
	require.Equal(t, 25, reps[0].Records+reps[1].Records)
}

func TestCorruptLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	fill(t, s, 5)
	require.NoError(t, s.Close())
	path := filepath.Join(dir, "records.jsonl")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("{not json}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = auditfile.Open(dir)
	require.ErrorIs(t, err, auditfile.ErrCorrupt)
}

func TestPruneSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := mustLog(audit.New(s, audit.Config{Signer: key, Now: func() time.Time { return now }}))
	for range 10 {
		now = now.Add(time.Hour)
		_, err := l.Append(ctx, audit.Entry{Tenant: "t", Action: "record.updated"})
		require.NoError(t, err)
	}
	n, err := l.Prune(ctx, "t", 3*time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(6), n)
	require.NoError(t, s.Close())
	s2 := open(t, dir)
	l2 := mustLog(audit.New(s2, audit.Config{Signer: key}))
	rep, err := verifyOne(l2.Verify(ctx, audit.VerifyOptions{Stream: "t"}))
	require.NoError(t, err)
	require.Equal(t, 4, rep.Records)
	require.True(t, rep.Anchored)
	// Pruned to nothing: the head survives in the checkpoint.
	_, err = l2.Prune(ctx, "t", -time.Hour)
	require.NoError(t, err)
	require.NoError(t, s2.Close())
	l3 := mustLog(audit.New(open(t, dir), audit.Config{Signer: key}))
	_, err = l3.Verify(ctx, audit.VerifyOptions{Stream: "t"})
	require.NoError(t, err)
	rec, err := l3.Append(ctx, audit.Entry{Tenant: "t", Action: "record.updated"})
	require.NoError(t, err)
	require.Equal(t, uint64(11), rec.Seq)
}

// mustLog unwraps audit.New for tests, whose configurations are valid.
func mustLog(l *audit.Log, err error) *audit.Log {
	if err != nil {
		panic(err)
	}
	return l
}

// verifyOne returns the report of the one stream Log.Verify was asked
// for (the last, on an error), for tests written per stream.
func verifyOne(reps []audit.VerifyReport, err error) (audit.VerifyReport, error) {
	var rep audit.VerifyReport
	if len(reps) > 0 {
		rep = reps[len(reps)-1]
	}
	return rep, err
}

// mustKey unwraps a key constructor for tests, whose keys are valid.
func mustKey[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

package auditjsonl_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditfile"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// manifestExport appends n records signed every `every`, prunes the oldest
// `pruned` minutes' worth when pruned > 0, and exports the whole stream.
func manifestExport(t *testing.T, n, every int, prune bool) (*audit.Log, string) {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: t0}
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Now: clk.Now, Signer: testKey, CheckpointEvery: every}))
	for i := range n {
		clk.Add(time.Minute)
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	if prune {
		_, err := l.Prune(ctx, "acme", time.Duration(n/2)*time.Minute)
		require.NoError(t, err)
	}
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{Signer: testKey, Now: clk.Now})
	require.NoError(t, err)
	return l, buf.String()
}

func lineSeq(line string) int {
	var seq int
	if i := strings.Index(line, `"seq":`); i >= 0 {
		_, _ = fmt.Sscanf(line[i+len(`"seq":`):], "%d", &seq)
	}
	return seq
}

func dropLines(data string, drop func(line string) bool) string {
	var kept []string
	for _, line := range strings.SplitAfter(data, "\n") {
		if !drop(line) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}

func isType(line, typ string) bool { return strings.Contains(line, `"type":"`+typ+`"`) }

// TestExportManifestRefusesCuts: the signed manifest makes every cut of an
// export visible: the oldest records (the file would otherwise be an
// export that began later), the newest, a checkpoint line, the manifest
// itself; and an edited or unsigned manifest is refused when a key is
// given.
func TestExportManifestRefusesCuts(t *testing.T) {
	t.Parallel()
	_, data := manifestExport(t, 100, 10, false)
	reps, err := auditjsonl.Verify(strings.NewReader(data), auditjsonl.VerifyOptions{Verifier: testKey})
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.True(t, reps[0].Attested)
	require.True(t, reps[0].Anchored)
	require.Equal(t, uint64(1), reps[0].From)
	require.Equal(t, uint64(100), reps[0].To)

	_, keyless := func() (*audit.Log, string) {
		ctx := context.Background()
		l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Action: "record.updated"})
		require.NoError(t, err)
		var buf bytes.Buffer
		_, err = auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{})
		require.NoError(t, err)
		return l, buf.String()
	}()

	cases := []struct {
		name    string
		in      string
		problem string
	}{
		{"oldest 50 records and their checkpoints", dropLines(data, func(l string) bool {
			return !isType(l, "manifest") && lineSeq(l) <= 50
		}), auditjsonl.ProblemRange},
		{"newest record", dropLines(data, func(l string) bool { return isType(l, "record") && lineSeq(l) == 100 }), auditjsonl.ProblemRange},
		{"a checkpoint line", dropLines(data, func(l string) bool { return isType(l, "checkpoint") && lineSeq(l) == 30 }), auditjsonl.ProblemRange},
		{"the manifest", dropLines(data, func(l string) bool { return isType(l, "manifest") }), auditjsonl.ProblemRange},
		{"edited manifest", strings.Replace(data, `"from":1,`, `"from":51,`, 1), audit.ProblemSignature},
		{"unsigned manifest with a key", keyless, auditjsonl.ProblemUnsigned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, data, c.in)
			_, err := auditjsonl.Verify(strings.NewReader(c.in), auditjsonl.VerifyOptions{Verifier: testKey})
			var ce *audit.ChainError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, c.problem, ce.Problem, err.Error())
		})
	}

	// A line of the stream after its manifest is malformed; an empty input
	// verifies nothing and is refused.
	_, err = auditjsonl.Verify(strings.NewReader(data+strings.SplitAfter(data, "\n")[0]), auditjsonl.VerifyOptions{Verifier: testKey})
	require.ErrorIs(t, err, audit.ErrMalformed)
	_, err = auditjsonl.Verify(strings.NewReader("\n"), auditjsonl.VerifyOptions{Verifier: testKey})
	require.ErrorIs(t, err, auditjsonl.ErrEmpty)
	// Without a key, a signed manifest cannot be checked: fail closed.
	_, err = auditjsonl.Verify(strings.NewReader(keyless), auditjsonl.VerifyOptions{})
	require.NoError(t, err, "an unsigned export verifies without a key")
	reps, err = auditjsonl.Verify(strings.NewReader(keyless), auditjsonl.VerifyOptions{})
	require.NoError(t, err)
	require.True(t, reps[0].Attested)
}

// TestExportManifestAfterPrune: an export of a pruned stream states the
// prune anchor under the signature, so it stays anchored even without the
// pruning checkpoint's line, and cutting more from the front is refused.
func TestExportManifestAfterPrune(t *testing.T) {
	t.Parallel()
	_, data := manifestExport(t, 40, 10, true)
	reps, err := auditjsonl.Verify(strings.NewReader(data), auditjsonl.VerifyOptions{Verifier: testKey})
	require.NoError(t, err)
	from := reps[0].From
	require.Greater(t, from, uint64(1))
	require.True(t, reps[0].Anchored)
	require.True(t, reps[0].Attested)

	cut := dropLines(data, func(l string) bool { return isType(l, "record") && uint64(lineSeq(l)) < from+5 })
	_, err = auditjsonl.Verify(strings.NewReader(cut), auditjsonl.VerifyOptions{Verifier: testKey})
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, auditjsonl.ProblemRange, ce.Problem)
}

// TestVerifyJSONLUnattested: the files of audit/auditfile carry no
// manifest; VerifyJSONL refuses them, VerifyJSONLUnattested checks what it
// can and says the range is not attested.
func TestVerifyJSONLUnattested(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := auditfile.Open(dir)
	require.NoError(t, err)
	l := mustLog(audit.New(st, audit.Config{Signer: testKey, CheckpointEvery: 5}))
	for i := range 12 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	var raw bytes.Buffer
	for _, name := range []string{"checkpoints.jsonl", "records.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		raw.Write(b)
	}
	_, err = auditjsonl.Verify(bytes.NewReader(raw.Bytes()), auditjsonl.VerifyOptions{Verifier: testKey})
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, auditjsonl.ProblemRange, ce.Problem)
	reps, err := auditjsonl.Verify(bytes.NewReader(raw.Bytes()), auditjsonl.VerifyOptions{Verifier: testKey, Unattested: true})
	require.NoError(t, err)
	require.False(t, reps[0].Attested)
	require.Equal(t, 12, reps[0].Records)
}

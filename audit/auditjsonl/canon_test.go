package auditjsonl_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// A JSON line is accepted only in the exact form Export writes. Otherwise
// several different files verify as the same log: extra nanoseconds the
// canonical encoding drops, or a duplicate key under another case, which
// encoding/json resolves one way (the last, case-insensitively) and other
// readers (jq, a spreadsheet import, an auditor's eyes) another.
func TestJSONLNonCanonicalRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Signer: testKey, CheckpointEvery: 2}))
	for range 3 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "alice", Action: "record.updated"})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err := auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{Signer: testKey})
	require.NoError(t, err)
	_, err = auditjsonl.Verify(bytes.NewReader(buf.Bytes()), auditjsonl.VerifyOptions{Verifier: testKey})
	require.NoError(t, err)

	lines := strings.SplitAfter(buf.String(), "\n")
	rec := -1
	for i, line := range lines {
		if strings.Contains(line, `"type":"record"`) {
			rec = i
			break
		}
	}
	require.GreaterOrEqual(t, rec, 0)
	variants := map[string]string{
		"duplicate key": strings.Replace(lines[rec], `{"type":"record",`, `{"type":"record","actor":"mallory","ACTOR":"mallory",`, 1),
		"nanoseconds":   strings.Replace(lines[rec], `Z"`, `999Z"`, 1),
		"spacing":       strings.Replace(lines[rec], `,"seq"`, `, "seq"`, 1),
	}
	for name, v := range variants {
		require.NotEqual(t, lines[rec], v, name)
		bad := append(append(append([]string{}, lines[:rec]...), v), lines[rec+1:]...)
		_, err := auditjsonl.Verify(strings.NewReader(strings.Join(bad, "")), auditjsonl.VerifyOptions{Verifier: testKey})
		require.ErrorIs(t, err, audit.ErrMalformed, name)
	}
}

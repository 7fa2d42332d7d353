package auditjsonl_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestExportVerifyJSONL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	ed, verifier := newEd25519(t)
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Now: clk.Now, Signer: ed, CheckpointEvery: 5}))
	for i := range 23 {
		clk.Add(time.Minute)
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u", Action: "record.updated", UserAgent: "evil\n{\"type\":\"record\"}",
			Changes: []audit.Change{{Field: "n", Old: fmt.Sprint(i), New: fmt.Sprint(i + 1)}}, Details: map[string]string{"ü": "\x00"}})
		require.NoError(t, err)
	}
	n, err := l.Prune(ctx, "acme", 15*time.Minute) // keeps the newest records
	require.NoError(t, err)
	require.Equal(t, int64(7), n)
	var buf bytes.Buffer
	cnt, err := auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{Signer: ed, Now: clk.Now})
	require.NoError(t, err)
	require.Equal(t, 16, cnt)
	reps, err := auditjsonl.Verify(bytes.NewReader(buf.Bytes()), auditjsonl.VerifyOptions{Verifier: verifier})
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.Equal(t, 16, reps[0].Records)
	require.True(t, reps[0].Anchored)
	require.Equal(t, uint64(8), reps[0].From)

	lines := strings.SplitAfter(buf.String(), "\n")
	_, err = auditjsonl.Verify(strings.NewReader(strings.Join(lines[:len(lines)-3], "")), auditjsonl.VerifyOptions{Verifier: verifier})
	require.ErrorIs(t, err, audit.ErrTampered, "dropping the last records is caught by the last checkpoint")
	tampered := strings.Replace(buf.String(), `"n","old":"12"`, `"n","old":"99"`, 1)
	require.NotEqual(t, buf.String(), tampered)
	_, err = auditjsonl.Verify(strings.NewReader(tampered), auditjsonl.VerifyOptions{Verifier: verifier})
	require.ErrorIs(t, err, audit.ErrTampered)
	_, err = auditjsonl.Verify(bytes.NewReader(buf.Bytes()), auditjsonl.VerifyOptions{})
	require.ErrorIs(t, err, audit.ErrNoVerifier)

	// A range export.
	buf.Reset()
	cnt, err = auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{From: 12, To: 18, Signer: ed, Now: clk.Now})
	require.NoError(t, err)
	require.Equal(t, 7, cnt)
	reps, err = auditjsonl.Verify(&buf, auditjsonl.VerifyOptions{Verifier: verifier})
	require.NoError(t, err)
	require.Equal(t, uint64(12), reps[0].From)
	require.Equal(t, uint64(18), reps[0].To)
}

func FuzzParseLine(f *testing.F) {
	r := sampleRecord()
	r.Hash, _ = computeHash(&r)
	line, _ := auditjsonl.AppendRecord(nil, &r)
	f.Add(line)
	cp := audit.Checkpoint{Stream: "s", Seq: 3, Time: r.Time, KeyID: "k", Signature: []byte{1}}
	cpLine, _ := auditjsonl.AppendCheckpoint(nil, &cp)
	f.Add(cpLine)
	m := auditjsonl.Manifest{Stream: "s", From: 51, To: 100, Records: 50, PrunedSeq: 50, Checkpoints: 2,
		Time: r.Time, KeyID: "k", Signature: []byte{1}}
	mLine, _ := auditjsonl.AppendManifest(nil, &m)
	f.Add(mLine)
	f.Add([]byte(`{"type":"manifest","v":1,"stream":"s","seq":0,"hash":"","time":"2026-01-02T03:04:05.000006Z","from":1}`))
	f.Add([]byte(`{"type":"record","v":1,"time":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := auditjsonl.ParseLine(b)
		if err != nil {
			return
		}
		var again []byte
		switch {
		case l.Record != nil:
			again, err = auditjsonl.AppendRecord(nil, l.Record)
		case l.Checkpoint != nil:
			again, err = auditjsonl.AppendCheckpoint(nil, l.Checkpoint)
		case l.Manifest != nil:
			again, err = auditjsonl.AppendManifest(nil, l.Manifest)
		default:
			t.Fatal("ParseLine returned an empty line without an error")
		}
		if err != nil {
			t.Fatalf("parsed line does not encode: %v", err)
		}
		l2, err := auditjsonl.ParseLine(again)
		if err != nil {
			t.Fatalf("re-encoded line does not parse: %v", err)
		}
		if l.Manifest != nil && !bytes.Equal(l.Manifest.SignedBytes(), l2.Manifest.SignedBytes()) {
			t.Fatalf("manifest changed meaning through a JSON round trip")
		}
		if l.Record != nil {
			h1, err1 := computeHash(l.Record)
			h2, err2 := computeHash(l2.Record)
			if (err1 == nil) != (err2 == nil) || h1 != h2 {
				t.Fatalf("record changed meaning through a JSON round trip")
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func export(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Signer: mustKey(audit.NewEd25519Key("k1", priv)), CheckpointEvery: 4}))
	for i := range 10 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u1", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err = auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{Signer: mustKey(audit.NewEd25519Key("k1", priv))})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "export.jsonl")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path, hex.EncodeToString(pub)
}

func TestVerifyFile(t *testing.T) {
	t.Parallel()
	path, pub := export(t)
	var out, errOut bytes.Buffer
	code := run([]string{"-ed25519-pub", pub, "-key-id", "k1", path}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), `ok stream "acme": records 1..10 (10), 2 checkpoints, anchored`)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := strings.Replace(string(data), `"target_id":"7"`, `"target_id":"8"`, 1)
	out.Reset()
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1", "-"}, strings.NewReader(bad), &out, &errOut)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), `TAMPERED stream "acme" at record 8`)

	out.Reset()
	code = run([]string{path}, nil, &out, &errOut)
	require.Equal(t, 2, code, "checkpoints need a key")
}

// A key was given, so the auditor asked for authenticity: a file with no
// checkpoint for a stream (say, the checkpoint lines were stripped and the
// records rewritten, or written from scratch) proves nothing and must not
// pass, and records after the last checkpoint must be named as unsigned.
func TestVerifyUnsignedWithKey(t *testing.T) {
	t.Parallel()
	path, pub := export(t)
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	var out, errOut bytes.Buffer
	code := run([]string{"-ed25519-pub", pub, "-key-id", "k1", path}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), "signed through record 8; records 9..10 are NOT signed")

	// A forged log: written by a Log with no key at all.
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	for i := range 10 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "mallory", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	var forged bytes.Buffer
	_, err = auditjsonl.Export(ctx, &forged, l.Store(), "acme", auditjsonl.ExportOptions{})
	require.NoError(t, err)
	out.Reset()
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1", "-"}, &forged, &out, &errOut)
	require.Equal(t, 1, code, out.String())
	require.Contains(t, out.String(), `UNSIGNED stream "acme"`)

	// The genuine file with its checkpoint lines stripped.
	var kept []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.Contains(line, `"type":"checkpoint"`) {
			kept = append(kept, line)
		}
	}
	out.Reset()
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1", "-"}, strings.NewReader(strings.Join(kept, "")), &out, &errOut)
	require.Equal(t, 1, code, out.String())
}

// exportN exports n records of one stream signed every `every` records.
func exportN(t *testing.T, n, every int) (string, string) {
	t.Helper()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Signer: mustKey(audit.NewEd25519Key("k1", priv)), CheckpointEvery: every}))
	for i := range n {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u1", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	_, err = l.Checkpoint(ctx)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = auditjsonl.Export(ctx, &buf, l.Store(), "acme", auditjsonl.ExportOptions{Signer: mustKey(audit.NewEd25519Key("k1", priv))})
	require.NoError(t, err)
	return buf.String(), hex.EncodeToString(pub)
}

// without drops the lines keep rejects.
func without(data string, drop func(line string) bool) string {
	var kept []string
	for _, line := range strings.SplitAfter(data, "\n") {
		if !drop(line) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}

// TestVerifyRefusesMissingRange is the attack: records 1-50 cut
// from the front of an export (with the checkpoints among them), the
// newest records cut from the end, or a single checkpoint line removed.
// Each must fail with a key given; the whole file passes.
func TestVerifyRefusesMissingRange(t *testing.T) {
	t.Parallel()
	data, pub := exportN(t, 100, 10)
	seqOf := func(line string) int {
		var seq int
		if i := strings.Index(line, `"seq":`); i >= 0 {
			_, _ = fmt.Sscanf(line[i+len(`"seq":`):], "%d", &seq)
		}
		return seq
	}
	isRecord := func(line string) bool { return strings.Contains(line, `"type":"record"`) }
	isCheckpoint := func(line string) bool { return strings.Contains(line, `"type":"checkpoint"`) }
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"whole file", data, true},
		{"oldest 50 records and their checkpoints removed", without(data, func(l string) bool {
			return (isRecord(l) || isCheckpoint(l)) && seqOf(l) <= 50
		}), false},
		{"oldest 50 records removed", without(data, func(l string) bool { return isRecord(l) && seqOf(l) <= 50 }), false},
		{"newest 5 records removed", without(data, func(l string) bool { return isRecord(l) && seqOf(l) > 95 }), false},
		{"one checkpoint line removed", without(data, func(l string) bool { return isCheckpoint(l) && seqOf(l) == 40 }), false},
		{"one record removed", without(data, func(l string) bool { return isRecord(l) && seqOf(l) == 30 }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run([]string{"-ed25519-pub", pub, "-key-id", "k1", "-"}, strings.NewReader(c.in), &out, &errOut)
			if c.ok {
				require.Equal(t, 0, code, out.String()+errOut.String())
				require.Contains(t, out.String(), `ok stream "acme": records 1..100 (100)`)
			} else {
				require.NotEqual(t, 0, code, "must not pass: %s", out.String())
				require.NotContains(t, out.String(), "ok stream")
			}
		})
	}
}

// panicReader fails the test if anything reads it.
type panicReader struct{ t *testing.T }

func (r panicReader) Read([]byte) (int, error) {
	r.t.Error("auditverify read standard input without being asked to")
	return 0, fmt.Errorf("not to be read")
}

// TestVerifyRefusesNoInput: with no file named, auditverify does not wait
// on standard input; an empty input is refused, not reported as verified.
func TestVerifyRefusesNoInput(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.Equal(t, 2, run(nil, panicReader{t}, &out, &errOut))
	require.Contains(t, errOut.String(), "usage")

	for _, in := range []string{"", "\n\n"} {
		out.Reset()
		errOut.Reset()
		code := run([]string{"-"}, strings.NewReader(in), &out, &errOut)
		require.Equal(t, 1, code, "empty input %q", in)
		require.Contains(t, out.String(), "EMPTY")
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	require.Equal(t, 1, run([]string{empty}, nil, &out, &errOut))
}

// TestVerifyRequiresNamedStreams: each manifest attests its own stream
// only, so a stream cut whole out of a file of several streams left a
// file that verified. Named with -stream, every expected stream must be
// there, and no other; each line shows when the export was made, so an
// older export (a true prefix of the log) is seen for what it is.
func TestVerifyRequiresNamedStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Signer: mustKey(audit.NewEd25519Key("k1", priv)),
		CheckpointEvery: 2, Now: func() time.Time { return at }}))
	var buf bytes.Buffer
	for _, tenant := range []string{"acme", "globex"} {
		for range 3 {
			_, err := l.Append(ctx, audit.Entry{Tenant: tenant, Actor: "u1", Action: "record.updated"})
			require.NoError(t, err)
		}
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = auditjsonl.Export(ctx, &buf, l.Store(), tenant, auditjsonl.ExportOptions{Signer: mustKey(audit.NewEd25519Key("k1", priv)), Now: func() time.Time { return at }})
		require.NoError(t, err)
	}
	full := buf.String()
	cut := without(full, func(line string) bool { return strings.Contains(line, `"globex"`) })
	require.NotEqual(t, full, cut)
	key := []string{"-ed25519-pub", hex.EncodeToString(pub), "-key-id", "k1"}
	both := append(append([]string{}, key...), "-stream", "acme", "-stream", "globex", "-")

	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(both, strings.NewReader(full), &out, &errOut), out.String()+errOut.String())
	require.Contains(t, out.String(), `ok stream "globex"`)
	require.Contains(t, out.String(), "exported 2026-05-01T09:00:00Z")

	out.Reset()
	require.Equal(t, 1, run(both, strings.NewReader(cut), &out, &errOut), out.String())
	require.Contains(t, out.String(), `MISSING stream "globex"`)

	out.Reset()
	only := append(append([]string{}, key...), "-stream", "acme", "-")
	require.Equal(t, 1, run(only, strings.NewReader(full), &out, &errOut), out.String())
	require.Contains(t, out.String(), `UNEXPECTED stream "globex"`)

	out.Reset()
	errOut.Reset()
	require.Equal(t, 0, run(append(key, "-"), strings.NewReader(full), &out, &errOut))
	require.Contains(t, errOut.String(), "2 streams; a stream removed whole goes unseen unless each is named with -stream")
}

// mustLog unwraps audit.New for tests, whose configurations are valid.
func mustLog(l *audit.Log, err error) *audit.Log {
	if err != nil {
		panic(err)
	}
	return l
}

// mustKey unwraps a key constructor for tests, whose keys are valid.
func mustKey[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

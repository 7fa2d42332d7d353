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

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func export(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	l := audit.New(memstore.NewAuditStore(), audit.Config{Signer: audit.Ed25519Signer{ID: "k1", Key: priv}, CheckpointEvery: 4})
	for i := range 10 {
		_, err := l.Append(ctx, audit.Event{Tenant: "acme", Actor: "u1", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err = l.Export(ctx, &buf, "acme", audit.VerifyOptions{})
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
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1"}, strings.NewReader(bad), &out, &errOut)
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
	l := audit.New(memstore.NewAuditStore(), audit.Config{})
	for i := range 10 {
		_, err := l.Append(ctx, audit.Event{Tenant: "acme", Actor: "mallory", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	var forged bytes.Buffer
	_, err = l.Export(ctx, &forged, "acme", audit.VerifyOptions{})
	require.NoError(t, err)
	out.Reset()
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1"}, &forged, &out, &errOut)
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
	code = run([]string{"-ed25519-pub", pub, "-key-id", "k1"}, strings.NewReader(strings.Join(kept, "")), &out, &errOut)
	require.Equal(t, 1, code, out.String())
}

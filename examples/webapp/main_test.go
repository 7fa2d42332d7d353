package main

import (
	"context"
	"encoding/hex"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
)

// TestStartUp: with the port taken, the demo fails at once naming -addr,
// and prints no banner (it printed "Bulwark demo on ..." before failing to
// bind); on a free port the banner comes once it listens, and the demo
// stops with its context. Not parallel: it sets environment variables.
func TestStartUp(t *testing.T) {
	key := func() string { return hex.EncodeToString(keyring.GenerateMasterKey().Bytes()) }
	t.Setenv("BULWARK_MASTER_KEY", key())
	t.Setenv("BULWARK_AUDIT_KEY", key())
	db := filepath.Join(t.TempDir(), "app.db")

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = taken.Close() }()
	var stdout, stderr syncBuffer
	err = run(t.Context(), []string{"-addr", taken.Addr().String(), "-db", db}, &stdout, &stderr)
	require.ErrorContains(t, err, "-addr")
	require.ErrorContains(t, err, taken.Addr().String())
	require.Empty(t, stdout.String(), "no banner before the address is bound")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, &stdout, &stderr) }()
	guard := time.After(5 * time.Minute) // against a hang only
	for !strings.Contains(stdout.String(), "Bulwark demo on http://127.0.0.1:") {
		select {
		case <-guard:
			t.Fatal("no banner")
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	require.Contains(t, stderr.String(), "mail is off")
	cancel()
	require.NoError(t, <-done)
}

// TestInsecureMailboxNeedsLoopback: -dev-mail-insecure on a public address
// is refused before anything starts.
func TestInsecureMailboxNeedsLoopback(t *testing.T) {
	t.Parallel()
	var stdout, stderr syncBuffer
	err := run(t.Context(), []string{"-addr", "0.0.0.0:0", "-dev-mail-insecure"}, &stdout, &stderr)
	require.ErrorContains(t, err, "loopback")
	require.Empty(t, stdout.String())
}

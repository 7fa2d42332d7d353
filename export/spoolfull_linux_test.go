//go:build linux

package export_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// TestFullDiskIsNotCorrupt: when ImportVerified's spool or DecryptFile's
// output cannot be written (a full TempDir or disk), the error says so and
// is not ErrCorrupt, which would tell an operator that a good backup is
// damaged. The disk is filled with a file size limit (RLIMIT_FSIZE) in a
// child process, so no other test is affected.
func TestFullDiskIsNotCorrupt(t *testing.T) {
	const child = "BULWARK_EXPORT_FSIZE_CHILD"
	if os.Getenv(child) == "" {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^TestFullDiskIsNotCorrupt$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), child+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "--- PASS: TestFullDiskIsNotCorrupt")
		return
	}
	f := newFixture(t, export.Config{})
	for i := range 8000 {
		f.contacts.add("t1", []string{fmt.Sprintf("s%d", i), "a name", "+1 555 0100", "a note long enough to fill the spool"})
	}
	id := newIdentity(t)
	keys := export.ReadOptions{Identities: []age.Identity{id}}
	var sealed bytes.Buffer
	_, err := f.ex.Export(context.Background(), &sealed, export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	require.Greater(t, sealed.Len(), 256<<10)
	// Sanity: the archive is good.
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(sealed.Bytes()), keys)
	require.NoError(t, err)

	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 128 << 10, Max: old.Max}))
	defer func() { _ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }()

	g := newFixture(t, export.Config{})
	_, err = g.ex.ImportVerified(context.Background(), bytes.NewReader(sealed.Bytes()), keys, export.Scope{Tenant: "t2"})
	require.ErrorIs(t, err, syscall.EFBIG)
	require.NotErrorIs(t, err, export.ErrCorrupt, "a full spool is not a corrupt archive: %v", err)
	require.Empty(t, g.contacts.get("t2"))

	dir := t.TempDir()
	_, err = f.ex.DecryptFile(context.Background(), filepath.Join(dir, "plain.tar"), bytes.NewReader(sealed.Bytes()), keys)
	require.ErrorIs(t, err, syscall.EFBIG)
	require.NotErrorIs(t, err, export.ErrCorrupt, "a full disk is not a corrupt archive: %v", err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

package export_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// ageCLI returns the path of the age command-line tool, or skips. The
// pure-Go round trips in TestRoundTrip always run; this checks that users
// really can decrypt with the standard tool (apt-get install age).
func ageCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("age")
	if err != nil {
		t.Skip("age command-line tool not installed; interoperability test skipped")
	}
	return p
}

func TestAgeCLIDecryptsExport(t *testing.T) {
	t.Parallel()
	bin := ageCLI(t)
	dir := t.TempDir()
	id := newIdentity(t)
	idFile := filepath.Join(dir, "key.txt")
	require.NoError(t, os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600))
	f := newFixture(t, export.Config{})
	for _, armor := range []bool{false, true} {
		enc := filepath.Join(dir, "export.tar.age")
		_, err := f.ex.ExportFile(context.Background(), enc, export.Request{
			Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}, Armor: armor})
		require.NoError(t, err)
		out := filepath.Join(dir, "export.tar")
		cmd := exec.Command(bin, "--decrypt", "-i", idFile, "-o", out, enc)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "age -d: %s", msg)
		plain, err := os.Open(out)
		require.NoError(t, err)
		m, err := f.ex.Verify(context.Background(), plain, export.ReadOptions{})
		require.NoError(t, plain.Close())
		require.NoError(t, err)
		require.Equal(t, int64(len(nasty)), m.Modules[0].Rows)
	}
}

func TestAgeCLIEncryptsForImport(t *testing.T) {
	t.Parallel()
	bin := ageCLI(t)
	dir := t.TempDir()
	id := newIdentity(t)
	f := newFixture(t, export.Config{})
	plainPath := filepath.Join(dir, "export.tar")
	_, err := f.ex.ExportFile(context.Background(), plainPath, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	for _, armor := range [][]string{nil, {"--armor"}} {
		args := append([]string{"-r", id.Recipient().String()}, armor...)
		cmd := exec.Command(bin, append(args, plainPath)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		enc, err := cmd.Output()
		require.NoError(t, err, "age -e: %s", stderr.String())
		g := newFixture(t, export.Config{})
		_, err = g.ex.Import(context.Background(), bytes.NewReader(enc), export.ReadOptions{Identities: []age.Identity{id}}, export.Scope{Tenant: "t2"})
		require.NoError(t, err)
		require.Equal(t, f.contacts.get("t1"), g.contacts.get("t2"))
	}
}

func TestAgeCLIDecryptsPassphraseExport(t *testing.T) {
	t.Parallel()
	bin := ageCLI(t)
	// age reads a passphrase only from a terminal; script(1) provides one.
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed; passphrase interoperability test skipped")
	}
	dir := t.TempDir()
	f := newFixture(t, export.Config{})
	enc := filepath.Join(dir, "export.tar.age")
	_, err = f.ex.ExportFile(context.Background(), enc, export.Request{Scope: export.Scope{Tenant: "t1"}, Passphrase: "correct horse battery"})
	require.NoError(t, err)
	out := filepath.Join(dir, "export.tar")

	cmd := exec.Command(script, "-qec", bin+" --decrypt -o "+out+" "+enc, "/dev/null")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// Type the passphrase once age has put the terminal in no-echo mode
	// and prompted (input typed earlier may be flushed).
	var seen bytes.Buffer
	buf := make([]byte, 256)
	for !bytes.Contains(seen.Bytes(), []byte("passphrase")) {
		n, err := stdout.Read(buf)
		require.NoError(t, err, "age output: %q", seen.String())
		seen.Write(buf[:n])
	}
	_, err = stdin.Write([]byte("correct horse battery\n"))
	require.NoError(t, err)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	<-drained
	require.NoError(t, cmd.Wait(), "age output: %q", seen.String())

	plain, err := os.Open(out)
	require.NoError(t, err)
	defer plain.Close()
	_, err = f.ex.Verify(context.Background(), plain, export.ReadOptions{})
	require.NoError(t, err)
}

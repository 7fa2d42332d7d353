package testenv_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
)

type buffer struct{ *bytes.Buffer }

func (buffer) Close() error { return nil }

// childEnv marks the test binary re-run by inChild.
const childEnv = "BULWARK_TESTENV_NOTICE_CHILD"

// inChild reports whether this is the re-run test binary. Otherwise it runs
// the named test in a fresh copy of the test binary and fails t if that
// fails. The tests below skip subtests with the integration marker on
// purpose; run in the parent they would reach `go test -json` and
// .ci/run's skipcheck would, rightly, refuse them as skipped integration
// tests.
func inChild(t *testing.T, name string) bool {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s in a child process:\n%s", name, out)
	require.Contains(t, string(out), "PASS", "the child ran no test:\n%s", out)
	return false
}

// skipped runs f as a subtest and reports whether it skipped.
func skipped(t *testing.T, f func(t *testing.T)) bool {
	var s bool
	t.Run("case", func(t *testing.T) {
		defer func() { s = t.Skipped() }()
		f(t)
	})
	return s
}

// Not parallel: it swaps the package's notice destination.
func TestSkipNoticeOncePerServer(t *testing.T) {
	if !inChild(t, "TestSkipNoticeOncePerServer") {
		return
	}
	var out bytes.Buffer
	restore := testenv.SetNotice(func() (io.WriteCloser, error) { return buffer{&out}, nil }, func() bool { return false })
	defer restore()

	for range 3 {
		require.True(t, skipped(t, func(t *testing.T) { testenv.SkipServer(t, testenv.EnvPostgres, "PostgreSQL") }))
	}
	require.True(t, skipped(t, func(t *testing.T) { testenv.SkipServer(t, testenv.EnvRedis, "Redis") }))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2, "one line per missing server, however many tests skip: %q", out.String())
	require.Equal(t, "bulwark: internal/testenv: BULWARK_TEST_POSTGRES is not set; PostgreSQL tests skipped (go test -v lists them)", lines[0])
	require.Contains(t, lines[1], "BULWARK_TEST_REDIS is not set; Redis tests skipped")

	out.Reset()
	require.True(t, skipped(t, func(t *testing.T) { testenv.SkipMissing(t, "chromium", "chromium not found; browser test skipped") }))
	require.Equal(t, "bulwark: internal/testenv: chromium not found; browser test skipped (go test -v lists them)\n", out.String())
}

func TestSkipNoticeQuietWhenVerbose(t *testing.T) {
	if !inChild(t, "TestSkipNoticeQuietWhenVerbose") {
		return
	}
	var out bytes.Buffer
	restore := testenv.SetNotice(func() (io.WriteCloser, error) { return buffer{&out}, nil }, func() bool { return true })
	defer restore()
	require.True(t, skipped(t, func(t *testing.T) { testenv.SkipServer(t, testenv.EnvPostgres, "PostgreSQL") }))
	require.Empty(t, out.String(), "-v and -json show the skip reasons already")
}

// TestPlainGoTestShowsSkips runs plain `go test` (no -v) on a package whose
// integration tests skip, under a pseudo-terminal as a developer would, and
// checks that the skips are visible: the go command discards a passing
// package's own output, so without the notice only "ok" would show.
func TestPlainGoTestShowsSkips(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs go test in a pseudo-terminal")
	}
	scriptCmd, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed; the pseudo-terminal check is skipped")
	}
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)

	run := func(flags string) string {
		cmd := exec.Command(scriptCmd, "-qec", goCmd+" test -count=1 "+flags+" ./internal/testenv/testdata/skipdemo", os.DevNull)
		cmd.Dir = root
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, testenv.EnvPostgres+"=") && !strings.HasPrefix(kv, testenv.EnvRedis+"=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.ReplaceAll(string(out), "\r\n", "\n")
	}

	plain := run("")
	require.Equal(t, 1, strings.Count(plain, "bulwark: internal/testenv/testdata/skipdemo: BULWARK_TEST_POSTGRES is not set; PostgreSQL tests skipped"), plain)
	require.Equal(t, 1, strings.Count(plain, "BULWARK_TEST_REDIS is not set; Redis tests skipped"), plain)
	require.Contains(t, plain, "ok  \tgithub.com/bulwarkhq/bulwark/internal/testenv/testdata/skipdemo")

	verbose := run("-v")
	require.Equal(t, 2, strings.Count(verbose, testenv.SkipMarker+" BULWARK_TEST_POSTGRES is not set"), verbose)
	require.NotContains(t, verbose, "bulwark: internal/testenv", "no extra line when -v shows the reasons")
}

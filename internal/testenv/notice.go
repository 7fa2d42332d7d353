package testenv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Plain `go test ./...` (package-list mode without -v) discards everything
// a passing test binary writes, stdout and stderr alike, and prints one
// "ok" line per package; a test's skip reason never reaches the reader.
// So that a developer on a fresh machine sees that the PostgreSQL and Redis
// tests did not run, the first skip for each missing server in a test
// binary (one binary per package) also writes one line straight to the
// terminal that runs go test. With -v or -json (testing.Verbose) the skip
// reasons are already in the output and nothing extra is written; without
// a controlling terminal (CI, cron) there is no reader to tell, and
// nothing is written either. A cached result ("(cached)") is replayed by
// the go command without running the binary, so the line appears on the
// runs that really execute the package.

var (
	noticeMu   sync.Mutex
	noticeDone = map[string]bool{}
	// noticeOut opens the destination of skip notices; tests replace it.
	noticeOut = openTerminal
	// noticeVerbose reports whether go test shows skip reasons itself.
	noticeVerbose = testing.Verbose
)

func openTerminal() (io.WriteCloser, error) {
	return os.OpenFile("/dev/tty", os.O_WRONLY, 0)
}

// skipMissing skips tb because the server configured by env is missing.
func skipMissing(tb testing.TB, env, what string) {
	tb.Helper()
	SkipMissing(tb, env, env+" is not set; "+what+" tests skipped")
}

// SkipMissing skips tb because something an integration test needs is
// missing (a server, a browser), with reason after [SkipMarker] so that
// .ci/run refuses the skip, and the first time per key in this test
// binary writes the one-line notice that plain go test would otherwise
// hide (see the package doc).
func SkipMissing(tb testing.TB, key, reason string) {
	tb.Helper()
	notice(key, fmt.Sprintf("bulwark: %s: %s (go test -v lists them)\n", packageDir(), reason))
	tb.Skip(SkipMarker + " " + reason)
}

// notice writes line to the terminal once per key, unless go test is
// verbose or there is no terminal.
func notice(key, line string) {
	noticeMu.Lock()
	defer noticeMu.Unlock()
	if noticeDone[key] || noticeVerbose() {
		return
	}
	noticeDone[key] = true
	w, err := noticeOut()
	if err != nil {
		return
	}
	_, _ = io.WriteString(w, line)
	_ = w.Close()
}

// packageDir names the package under test by its directory relative to the
// module root (go test runs each test binary in its package directory).
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return filepath.Base(wd)
			}
			return filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Base(wd)
		}
		dir = parent
	}
}

package testenv

import (
	"io"
	"testing"
)

// SetNotice points skip notices at open and makes verbose decide whether go
// test shows skip reasons itself, forgetting earlier notices; the returned
// function restores the real ones.
func SetNotice(open func() (io.WriteCloser, error), verbose func() bool) (restore func()) {
	noticeMu.Lock()
	oldOut, oldVerbose, oldDone := noticeOut, noticeVerbose, noticeDone
	noticeOut, noticeVerbose, noticeDone = open, verbose, map[string]bool{}
	noticeMu.Unlock()
	return func() {
		noticeMu.Lock()
		noticeOut, noticeVerbose, noticeDone = oldOut, oldVerbose, oldDone
		noticeMu.Unlock()
	}
}

// SkipServer is skipMissing.
func SkipServer(tb testing.TB, env, what string) { skipMissing(tb, env, what) }

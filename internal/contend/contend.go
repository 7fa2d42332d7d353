// Package contend runs one call from many goroutines released at once, for
// the conformance suites' contention cases (exactly one winner, every
// count distinct).
package contend

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Run calls f from n goroutines that start together and returns how many
// calls returned true. Each error fails t.
func Run(t testing.TB, n int, f func() (bool, error)) int {
	t.Helper()
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := f()
			if err != nil {
				errs <- err
				return
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	return int(wins.Load())
}

// Command skipcheck reads `go test -json` output on standard input, passes it
// through as plain test output, and exits non-zero when any test skipped
// because an integration server was missing (its skip message carries
// testenv.SkipMarker) or when no test ran at all. .ci/run uses it so that a
// green build always means the PostgreSQL and Redis tests really ran.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/testenv"
)

// event is the subset of test2json's TestEvent that skipcheck reads.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type result struct {
	passed, failed, skipped int
	integrationSkips        []string
}

func scan(r io.Reader, w io.Writer) (result, error) {
	var res result
	marked := map[string]bool{}  // package/test whose output had the marker
	buf := map[string][]string{} // output held back until the test's verdict
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			// Build errors and the like arrive as plain text.
			_, _ = fmt.Fprintln(w, string(line))
			continue
		}
		key := ev.Package + " " + ev.Test
		switch ev.Action {
		case "output", "build-output":
			if ev.Test == "" {
				// Package summaries ("ok", "FAIL") and build errors.
				_, _ = io.WriteString(w, ev.Output)
				continue
			}
			if strings.Contains(ev.Output, testenv.SkipMarker) {
				marked[key] = true
			}
			buf[key] = append(buf[key], ev.Output)
		case "pass":
			if ev.Test != "" {
				res.passed++
			}
			delete(buf, key)
		case "fail":
			if ev.Test != "" {
				res.failed++
			}
			// Only failing tests show their output, so a failure is easy to find.
			for _, o := range buf[key] {
				_, _ = io.WriteString(w, o)
			}
			delete(buf, key)
		case "skip":
			if ev.Test != "" {
				res.skipped++
				if marked[key] {
					res.integrationSkips = append(res.integrationSkips, key)
				}
			}
			delete(buf, key)
		}
	}
	return res, sc.Err()
}

func main() {
	res, err := scan(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	for _, k := range res.integrationSkips {
		fmt.Fprintln(os.Stderr, "skipcheck: integration test skipped:", k)
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", res.passed, res.failed, res.skipped)
	switch {
	case len(res.integrationSkips) > 0:
		fmt.Fprintf(os.Stderr, "skipcheck: %d integration tests skipped; PostgreSQL and Redis must be reachable\n", len(res.integrationSkips))
		os.Exit(1)
	case res.passed == 0:
		fmt.Fprintln(os.Stderr, "skipcheck: no test ran")
		os.Exit(1)
	}
}

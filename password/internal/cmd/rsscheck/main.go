// Command rsscheck shows that a Hasher's concurrency limit bounds memory:
// it starts n concurrent Hash calls at the given parameters and reports the
// process's peak RSS (VmHWM) against the bound limit × 2 × m + 64 MiB. Run
// it under /usr/bin/time -v for an independent reading:
//
//	go build -o /tmp/rsscheck ./password/internal/cmd/rsscheck
//	/usr/bin/time -v /tmp/rsscheck -n 64
//
// It is not part of CI (it takes seconds and a few hundred MiB). The
// figures are recorded in the password package documentation.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/password"
)

func main() {
	n := flag.Int("n", 64, "concurrent Hash calls")
	limit := flag.Int("limit", 0, "Config.MaxConcurrent (0 = default)")
	mem := flag.Uint("m", 64*1024, "argon2 memory in KiB")
	flag.Parse()

	h, err := password.New(password.Config{
		Params:        password.Params{Memory: uint32(*mem)},
		MaxConcurrent: *limit,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), fmt.Sprintf("password %d", i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	hwm := vmHWM()
	concurrency := *limit
	if concurrency <= 0 {
		concurrency = max(2, runtime.NumCPU()/4) // Config.MaxConcurrent's default at 4 lanes
	}
	bound := uint64(concurrency)*2*uint64(*mem)*1024 + 64<<20
	fmt.Printf("NumCPU=%d GOMAXPROCS=%d calls=%d limit=%d m=%dKiB elapsed=%s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), *n, concurrency, *mem, elapsed.Round(time.Millisecond))
	fmt.Printf("peak RSS (VmHWM) = %d MiB, bound limit*2*m+64MiB = %d MiB\n", hwm>>20, bound>>20)
	if hwm > bound {
		fmt.Println("FAIL: peak RSS above bound")
		os.Exit(1)
	}
	fmt.Println("OK")
}

// vmHWM reads the peak resident set size from /proc/self/status (Linux).
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

package password

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/crypto/argon2"
)

// minCalibrateMemory is the smallest memory Calibrate will choose: OWASP's
// Password Storage Cheat Sheet minimum for argon2id (19 MiB), unless the
// budget is smaller still.
const minCalibrateMemory = 19 * 1024

// Calibrate picks argon2id parameters for this machine: as much memory per
// hash as memoryBudget (bytes) allows, parallelism min(4, NumCPU), and the
// most passes that keep one hash within target. If even one pass over the
// budget takes longer than target, it halves the memory (not below 19 MiB,
// OWASP's minimum, unless the budget is below that) until one pass fits.
// It runs a handful of real hashes, so it takes a few multiples of target;
// run it at deployment, not per request, and store the result in
// [Config.Params]. It returns ctx's error if ctx ends, and an error
// wrapping [ErrInvalidConfig] for a non-positive target or a budget under
// 8 KiB per lane.
func Calibrate(ctx context.Context, target time.Duration, memoryBudget uint64) (Params, error) {
	p := DefaultParams()
	p.Parallelism = uint8(min(4, runtime.NumCPU()))
	mem := min(memoryBudget/1024, 1<<22) // at most 4 GiB
	if target <= 0 || mem < 8*uint64(p.Parallelism) {
		return Params{}, fmt.Errorf("%w: target must be positive and budget at least 8 KiB per lane", ErrInvalidConfig)
	}
	p.Memory = uint32(mem)
	floor := min(uint32(minCalibrateMemory), p.Memory)
	pw, salt := []byte("calibration password"), make([]byte, p.SaltLen)
	measure := func(q Params) (time.Duration, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		argon2.IDKey(pw, salt, q.Time, q.Memory, q.Parallelism, q.KeyLen)
		return time.Since(start), nil
	}
	p.Time = 1
	one, err := measure(p)
	if err != nil {
		return Params{}, err
	}
	for one > target && p.Memory/2 >= floor {
		p.Memory /= 2
		if one, err = measure(p); err != nil {
			return Params{}, err
		}
	}
	// Time grows linearly with passes; back off one pass if the estimate
	// overshoots.
	p.Time = uint32(max(1, min(int64(target/max(one, time.Microsecond)), 16)))
	for p.Time > 1 {
		d, err := measure(p)
		if err != nil {
			return Params{}, err
		}
		if d <= target {
			break
		}
		p.Time--
	}
	return p, nil
}

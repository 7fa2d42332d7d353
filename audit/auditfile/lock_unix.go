//go:build unix

package auditfile

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, so a second process
// opening the same directory fails instead of forking the chain. The kernel
// drops the lock when the process dies, so a crash leaves no stale lock.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

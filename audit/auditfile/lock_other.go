//go:build !unix

package auditfile

import "os"

// lockFile is a no-op where flock is unavailable: one process per
// directory is then the host's responsibility.
func lockFile(*os.File) error { return nil }

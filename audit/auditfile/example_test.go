package auditfile_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditfile"
)

// Example keeps an audit log in fsync'd JSON Lines files, for an app with no
// database, and verifies it after reopening.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "audit-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	st, err := auditfile.Open(dir)
	if err != nil {
		panic(err)
	}
	log, err := audit.New(st, audit.Config{})
	if err != nil {
		panic(err)
	}
	for _, who := range []string{"ann", "bob"} {
		if _, err := log.Append(ctx, audit.Entry{Actor: who, Action: "auth.login", Outcome: audit.Success, IP: "203.0.113.7"}); err != nil {
			panic(err)
		}
	}
	if err := st.Close(); err != nil {
		panic(err)
	}

	// After a restart the chain is read back and checked.
	st, err = auditfile.Open(dir)
	if err != nil {
		panic(err)
	}
	defer func() { _ = st.Close() }()
	if log, err = audit.New(st, audit.Config{}); err != nil {
		panic(err)
	}
	reps, err := log.Verify(ctx, audit.VerifyOptions{})
	fmt.Println("records:", reps[0].Records, "verified:", err == nil)
	// Output: records: 2 verified: true
}

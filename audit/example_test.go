package audit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	key, err := audit.NewHMACKey("2026-05", []byte("use 32+ random bytes from a KMS!"))
	if err != nil {
		fmt.Println(err)
		return
	}
	log, err := audit.New(memstore.NewAuditStore(), audit.Config{
		Now:    func() time.Time { return now },
		Signer: key,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	type Customer struct {
		Email    string
		Password string `audit:"-"`
		Card     string
	}
	before := Customer{Email: "ann@example.com", Card: ""}
	after := Customer{Email: "ann@example.org", Password: "hunter2", Card: "4111 1111 1111 1111"}
	changes, _ := audit.Diff(before, after)

	rec, err := log.Append(ctx, audit.Entry{
		Tenant: "acme", Actor: "u-17", Action: "customer.updated",
		TargetType: "customer", TargetID: "c-9", IP: "203.0.113.7", Changes: changes,
	})
	if err != nil {
		fmt.Println("audit write failed; refuse the change:", err)
		return
	}
	for _, c := range rec.Changes {
		fmt.Printf("%s: %q -> %q\n", c.Field, c.Old, c.New)
	}
	if _, err := log.Checkpoint(ctx); err != nil {
		fmt.Println(err)
	}
	reps, err := log.Verify(ctx, audit.VerifyOptions{Stream: "acme"})
	fmt.Println("records:", reps[0].Records, "checkpoints:", reps[0].Checkpoints, "error:", err)
	// Output:
	// email: "ann@example.com" -> "ann@example.org"
	// card: "" -> "**** **** **** 1111"
	// records: 1 checkpoints: 1 error: <nil>
}

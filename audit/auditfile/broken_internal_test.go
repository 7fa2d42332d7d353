package auditfile

import (
	"context"
	"errors"
	"testing"

	"github.com/bulwarkhq/bulwark/audit"
)

// TestFailedWriteBreaksStore: after a write fails, the file's state is
// unknown, so the store refuses every later write instead of carrying on
// with a chain that may not match the disk.
func TestFailedWriteBreaksStore(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	ev := audit.Entry{Tenant: "t", Action: "x.y", ID: "1"}
	if _, err := s.Append(ctx, []audit.Entry{ev}); err != nil {
		t.Fatal(err)
	}
	_ = s.recs.Close() // the next write fails, as on a lost disk
	if _, err := s.Append(ctx, []audit.Entry{ev}); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	if h, _ := s.Head(ctx, "t"); h.Seq != 1 {
		t.Fatalf("failed write moved the head to %d", h.Seq)
	}
	if _, err := s.Append(ctx, []audit.Entry{ev}); !errors.Is(err, ErrBroken) {
		t.Fatalf("Append after a failed write = %v, want ErrBroken", err)
	}
	if err := s.AddCheckpoint(ctx, audit.Checkpoint{Stream: "t", Seq: 1}); !errors.Is(err, ErrBroken) {
		t.Fatalf("AddCheckpoint after a failed write = %v, want ErrBroken", err)
	}
}

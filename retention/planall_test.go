package retention_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// TestPlanAllAllocations: planning every subject allocates next to
// nothing beyond what the store's scan allocates (the target is
// under 200 bytes a subject in all; it was about 1250). Allocation is
// counted, not timed, so the machine's load does not matter; the test is
// not parallel, so no other test allocates meanwhile.
func TestPlanAllAllocations(t *testing.T) {
	const n = 5000
	st := memstore.NewRetentionStore()
	ctx := context.Background()
	states := []string{"active", retention.StateTrialExpired, retention.StateCancelled, retention.StatePaymentFailed, retention.StateFree, retention.StateDeletionRequested}
	for i := range n {
		if err := st.PutSubject(ctx, retention.Subject{ID: fmt.Sprintf("s%06d", i), State: states[i%6], Since: t0.Add(-time.Duration(i%365) * day), LastActive: t0.Add(-time.Duration(i%90) * day)}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := retention.New(st, retention.Config{BatchSize: 500, Now: func() time.Time { return t0 }, Logger: slogTo(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	var kept []retention.SubjectPlan
	plan := func() {
		kept = kept[:0]
		if err := m.PlanAll(ctx, func(p retention.SubjectPlan) error {
			if p.Subject == "s000003" || p.Subject == "s004999" {
				p.Steps = slices.Clone(p.Steps) // as PlanAll's doc asks
				kept = append(kept, p)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	plan() // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	plan()
	runtime.ReadMemStats(&after)
	perSubject := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("PlanAll allocates %.0f bytes a subject", perSubject)
	if perSubject >= 200 {
		t.Errorf("PlanAll allocates %.0f bytes a subject, want under 200", perSubject)
	}
	// The plans handed out are right, and a cloned one survives the
	// reuse of the buffer.
	want, err := m.Plan(ctx, "s000003", "s004999")
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || !slices.Equal(kept[0].Steps, want[0].Steps) || !slices.Equal(kept[1].Steps, want[1].Steps) || len(want[0].Steps) == 0 {
		t.Fatalf("PlanAll plans %+v, Plan says %+v", kept, want)
	}
}

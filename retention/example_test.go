package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := memstore.NewRetentionStore()
	m, err := retention.New(st, retention.Config{
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hook: func(_ context.Context, e retention.Event) {
			fmt.Println("event:", e.Type) // route to the audit log
		},
	}) // zero Policy: retention.SaaSLifecycle()
	if err != nil {
		panic(err)
	}
	m.Register("profile", retention.EraserFunc(func(ctx context.Context, subject string) error {
		return nil // delete the subject's profile rows here
	}))

	// The host reports account states as they change.
	_ = st.PutSubject(ctx, retention.Subject{ID: "alice", State: retention.StateTrialExpired, Since: now.AddDate(0, 0, -3)})
	_ = st.PutSubject(ctx, retention.Subject{ID: "bob", State: retention.StateCancelled, Since: now.AddDate(0, 0, -100)})
	_ = m.SetHold(ctx, "bob", "litigation 2026-114")

	plans, _ := m.Plan(ctx, "alice", "bob")
	for _, p := range plans {
		for _, s := range p.Steps {
			fmt.Printf("%s: %s on %s (%s)%s\n", p.Subject, s.Action, s.Due.Format(time.DateOnly), s.Rule, blocked(s))
		}
	}
	rep, _ := m.Run(ctx, 0)
	fmt.Printf("scanned %d, acted %d, failed %d, held %d\n", rep.Scanned, rep.Acted, rep.Failed, rep.Held)
	// Output:
	// alice: warn on 2026-03-03 (trial-expired-erase)
	// alice: erase on 2026-03-10 (trial-expired-erase)
	// bob: warn on 2026-02-12 (cancelled-erase) blocked: legal hold: litigation 2026-114
	// bob: erase on 2026-02-19 (cancelled-erase) blocked: legal hold: litigation 2026-114
	// event: retention.run
	// scanned 2, acted 0, failed 0, held 1
}

func blocked(s retention.Step) string {
	if s.Blocked == "" {
		return ""
	}
	return " blocked: " + s.Blocked
}

func ExamplePolicy_UnmarshalJSON() {
	var p retention.Policy
	err := json.Unmarshal([]byte(`{
		"name": "acme",
		"preset": "saas-lifecycle",
		"rules": [{"name": "dormant-erase", "state": "dormant", "anchor": "last_active", "after": "365d", "action": "erase"}],
		"categories": [{"name": "sessions", "retain": "30d"}]
	}`), &p)
	fmt.Println(len(p.Rules), p.Categories[0].Retain, err)

	err = json.Unmarshal([]byte(`{"rules": [{"name": "X", "state": "", "after": "1d", "action": "delete"}]}`), &p)
	var pe *retention.PolicyError
	if errors.As(err, &pe) {
		for _, pr := range pe.Problems {
			fmt.Println(pr.Path, pr.Code)
		}
	}
	// Output:
	// 8 720h0m0s <nil>
	// rules[0].name syntax
	// rules[0].state required
	// rules[0].action unknown
}

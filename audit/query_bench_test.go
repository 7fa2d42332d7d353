package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// BenchmarkQuery reads pages of 2,000 records in the in-memory store: one
// page of the newest, a filtered page, and the access report over all.
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	actions := []string{"auth.login", "auth.login.failed", "record.updated", "auth.lockout"}
	for i := range 2000 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: fmt.Sprint("u", i%50), Action: actions[i%4],
			Outcome: audit.Success, IP: fmt.Sprint("203.0.113.", i%20), TargetType: "user", TargetID: fmt.Sprint("u", i%50)})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		f    audit.Filter
	}{
		{"newest-page", audit.Filter{Tenant: "acme", Limit: 50}},
		{"filtered", audit.Filter{Tenant: "acme", Actor: "u7", ActionPrefix: "auth.login", Limit: 50}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := l.Query(ctx, c.f)
				if err != nil || len(p.Records) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("access-report", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.AccessReport(ctx, audit.Filter{Tenant: "acme", Since: t0.AddDate(-10, 0, 0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

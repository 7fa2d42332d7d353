package org_test

import (
	"context"
	"testing"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func BenchmarkCanCached(b *testing.B) {
	m, err := org.New(memstore.NewOrgStore(), org.Config{Permissions: catalogue})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := m.CreateTenant(ctx, "t", org.Actor{User: "u"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := m.Can(ctx, "t", "u", "clients.write", org.Resource{}); !ok {
			b.Fatal("denied")
		}
	}
}

func BenchmarkValidateToken(b *testing.B) {
	m, err := org.New(memstore.NewOrgStore(), org.Config{Permissions: catalogue})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := m.CreateTenant(ctx, "t", org.Actor{User: "u"}); err != nil {
		b.Fatal(err)
	}
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "u"}, "t", org.TokenSpec{Permissions: []org.Permission{"export.run"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.ValidateToken(ctx, tok, "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
	}
}

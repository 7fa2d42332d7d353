package org_test

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	ctx := context.Background()
	m, err := org.New(memstore.NewOrgStore(), org.Config{
		Permissions: []org.Permission{"clients.read", "clients.write", "export.run"},
	})
	if err != nil {
		panic(err)
	}
	owner := org.Actor{User: "ana", IP: "192.0.2.1"}
	_ = m.CreateTenant(ctx, "church-42", owner)

	// Invite a volunteer as read-only; the token goes into an e-mailed link.
	link, _, _ := m.Invite(ctx, owner, "church-42", "ben@example.com", org.RoleReadOnly)
	_, err = m.Accept(ctx, org.Actor{User: "ben"}, link, "Ben@Example.com")
	fmt.Println("accepted:", err == nil)

	// Give ben write access to one group of clients only.
	_ = m.DefineRole(ctx, owner, "church-42", org.Role{Name: "editor", Permissions: []org.Permission{"clients.read", "clients.write"}})
	_, _ = m.Grant(ctx, owner, "church-42", "ben", "editor", org.Resource{Type: "client", Group: "youth"})

	ok, _ := m.Can(ctx, "church-42", "ben", "clients.write", org.Resource{Type: "client", ID: "17", Group: "youth"})
	fmt.Println("ben may edit client 17 (youth):", ok)
	ok, _ = m.Can(ctx, "church-42", "ben", "clients.write", org.Resource{Type: "client", ID: "18", Group: "adults"})
	fmt.Println("ben may edit client 18 (adults):", ok)
	v, _ := m.Visible(ctx, "church-42", "ben", "clients.write", "client")
	fmt.Printf("ben edits: all=%v groups=%v\n", v.All, v.Groups)

	// An API token for the nightly backup, limited to export.run.
	tok, _, _ := m.CreateToken(ctx, owner, "church-42", org.TokenSpec{Name: "backup", Permissions: []org.Permission{"export.run"}})
	p, _ := m.ValidateToken(ctx, tok, "198.51.100.4")
	fmt.Println("token acts as:", p.User, "in", p.Tenant)

	// Output:
	// accepted: true
	// ben may edit client 17 (youth): true
	// ben may edit client 18 (adults): false
	// ben edits: all=false groups=[youth]
	// token acts as: ana in church-42
}

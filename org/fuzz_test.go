package org_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// FuzzValidateToken feeds untrusted Authorization values to the token
// parser: it must never panic, never reach the store for a malformed
// token, and accept only the documented shape.
func FuzzValidateToken(f *testing.F) {
	st := &counting{Store: memstore.NewOrgStore()}
	m, err := org.New(st, org.Config{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := m.CreateTenant(ctx, "t", org.Actor{User: "u"}); err != nil {
		f.Fatal(err)
	}
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "u"}, "t", org.TokenSpec{Permissions: []org.Permission{org.PermMembersManage}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "bwk_", tok, tok[:len(tok)-1], tok + "x", strings.Repeat("a", 4096), "bwk_" + strings.Repeat("0", 49), "bwk_\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		before := st.n
		ok := org.ParseToken("bwk_", s)
		_, err := m.ValidateToken(ctx, s, "")
		if !ok {
			if err == nil || st.n != before {
				t.Fatalf("malformed %q: err %v, store reached %v", s, err, st.n != before)
			}
			return
		}
		if len(s) != 53 || !strings.HasPrefix(s, "bwk_") {
			t.Fatalf("ParseToken accepted %q", s)
		}
		if err == nil && s != tok {
			t.Fatalf("a different token %q validated", s)
		}
	})
}

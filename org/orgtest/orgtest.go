// Package orgtest checks that an [org.Store] keeps the contract written on
// its interfaces, in the manner of testing/fstest:
//
//	func TestOrgStore(t *testing.T) {
//		orgtest.Run(t, func(t *testing.T) org.Store { return newEmptyStore(t) })
//	}
//
// newStore must return a fresh, empty store for every call; each subtest
// gets its own. Times used are whole seconds in UTC, so a store that keeps
// microseconds passes.
package orgtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/org"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Run runs every check against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) org.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, org.Store)
	}{
		{"TenantAndMembers", testTenantAndMembers},
		{"LastOwner", testLastOwner},
		{"RemoveMemberCascades", testRemoveMemberCascades},
		{"RolesAndGrants", testRolesAndGrants},
		{"VersionMoves", testVersionMoves},
		{"Invitations", testInvitations},
		{"Tokens", testTokens},
		{"ConcurrentDemotions", testConcurrentDemotions},
		{"ConcurrentAccept", testConcurrentAccept},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func member(tenant, user, role string) org.Member {
	return org.Member{Tenant: tenant, User: user, Role: role, Joined: t0}
}

func hash(s string) [32]byte {
	var h [32]byte
	copy(h[:], s)
	return h
}

func testTenantAndMembers(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t1", "alice", org.RoleOwner)))
	want(t, st.CreateTenant(ctx, member("t1", "bob", org.RoleOwner)), org.ErrDuplicate)
	must(t, st.CreateTenant(ctx, member("t2", "bob", org.RoleOwner)))
	must(t, st.PutMember(ctx, member("t2", "alice", org.RoleReadOnly)))
	want(t, st.PutMember(ctx, member("nope", "alice", org.RoleMember)), org.ErrNotFound)
	want(t, st.PutMember(ctx, member("t1", "carol", "no-such-role")), org.ErrNotFound)

	// Joined is kept when the role changes.
	later := member("t2", "alice", org.RoleMember)
	later.Joined = t0.Add(time.Hour)
	must(t, st.PutMember(ctx, later))

	ms, err := st.Memberships(ctx, "alice")
	must(t, err)
	if len(ms) != 2 || ms[0].Tenant != "t1" || ms[0].Role != org.RoleOwner || ms[1].Tenant != "t2" || ms[1].Role != org.RoleMember {
		t.Fatalf("Memberships(alice) = %+v", ms)
	}
	if !ms[1].Joined.Equal(t0) {
		t.Fatalf("Joined changed with the role: %v", ms[1].Joined)
	}
	ms, err = st.Memberships(ctx, "nobody")
	must(t, err)
	if len(ms) != 0 {
		t.Fatalf("Memberships(nobody) = %+v", ms)
	}
	snap, err := st.Snapshot(ctx, "t2")
	must(t, err)
	if len(snap.Members) != 2 {
		t.Fatalf("Snapshot members = %+v", snap.Members)
	}
	_, err = st.Snapshot(ctx, "nope")
	want(t, err, org.ErrNotFound)
	_, err = st.Version(ctx, "nope")
	want(t, err, org.ErrNotFound)
}

func testLastOwner(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	want(t, st.PutMember(ctx, member("t", "alice", org.RoleAdministrator)), org.ErrLastOwner)
	want(t, st.RemoveMember(ctx, "t", "alice"), org.ErrLastOwner)
	must(t, st.PutMember(ctx, member("t", "bob", org.RoleOwner)))
	must(t, st.PutMember(ctx, member("t", "alice", org.RoleMember)))
	want(t, st.RemoveMember(ctx, "t", "bob"), org.ErrLastOwner)
	must(t, st.RemoveMember(ctx, "t", "alice"))
	want(t, st.RemoveMember(ctx, "t", "alice"), org.ErrNotFound)
	want(t, st.RemoveMember(ctx, "nope", "alice"), org.ErrNotFound)
}

func testRemoveMemberCascades(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	must(t, st.CreateTenant(ctx, member("u", "bob", org.RoleOwner)))
	must(t, st.PutMember(ctx, member("t", "bob", org.RoleMember)))
	must(t, st.PutGrant(ctx, org.Grant{ID: "g1", Tenant: "t", User: "bob", Role: org.RoleAdministrator, Resource: org.Resource{Type: "client", ID: "7"}, Created: t0, By: "alice"}))
	tok := org.Token{ID: "k1", Tenant: "t", User: "bob", Name: "backup", Hint: "bwk_abcd", Hash: hash("k1"), Permissions: []org.Permission{"clients.read"}, Created: t0, Expires: t0.Add(time.Hour)}
	must(t, st.CreateToken(ctx, tok))
	other := tok
	other.ID, other.Tenant, other.Hash = "k2", "u", hash("k2")
	must(t, st.CreateToken(ctx, other))

	must(t, st.RemoveMember(ctx, "t", "bob"))
	snap, err := st.Snapshot(ctx, "t")
	must(t, err)
	if len(snap.Grants) != 0 || len(snap.Members) != 1 {
		t.Fatalf("after removal: %+v", snap)
	}
	_, err = st.UseToken(ctx, hash("k1"), t0, "", t0)
	want(t, err, org.ErrNotFound)
	// The token bob made in another tenant lives on.
	_, err = st.UseToken(ctx, hash("k2"), t0, "", t0)
	must(t, err)
	// A token for someone who is not a member is refused.
	tok.ID, tok.Hash = "k3", hash("k3")
	want(t, st.CreateToken(ctx, tok), org.ErrNotFound)
}

func testRolesAndGrants(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	want(t, st.PutRole(ctx, "nope", org.Role{Name: "x"}), org.ErrNotFound)
	must(t, st.PutRole(ctx, "t", org.Role{Name: "support", Permissions: []org.Permission{"clients.read"}}))
	must(t, st.PutRole(ctx, "t", org.Role{Name: "support", Permissions: []org.Permission{"clients.read", "clients.write"}}))
	must(t, st.PutRole(ctx, "t", org.Role{Name: "auditor", Permissions: []org.Permission{"audit.read"}}))
	must(t, st.PutMember(ctx, member("t", "bob", "support")))
	want(t, st.DeleteRole(ctx, "t", "support"), org.ErrRoleInUse)
	want(t, st.DeleteRole(ctx, "t", "ghost"), org.ErrNotFound)

	g := org.Grant{ID: "g1", Tenant: "t", User: "bob", Role: "auditor", Resource: org.Resource{Type: "client", Group: "north"}, Created: t0, By: "alice"}
	must(t, st.PutGrant(ctx, g))
	dup := g
	dup.ID = "g2"
	want(t, st.PutGrant(ctx, dup), org.ErrDuplicate)
	nm := g
	nm.ID, nm.User = "g3", "carol"
	want(t, st.PutGrant(ctx, nm), org.ErrNotFound)
	nr := g
	nr.ID, nr.Role = "g4", "ghost"
	want(t, st.PutGrant(ctx, nr), org.ErrNotFound)
	want(t, st.DeleteRole(ctx, "t", "auditor"), org.ErrRoleInUse)

	snap, err := st.Snapshot(ctx, "t")
	must(t, err)
	if len(snap.Roles) != 2 || len(snap.Grants) != 1 || snap.Grants[0] != g {
		t.Fatalf("snapshot = %+v", snap)
	}
	i := slices.IndexFunc(snap.Roles, func(r org.Role) bool { return r.Name == "support" })
	if i < 0 || !slices.Equal(snap.Roles[i].Permissions, []org.Permission{"clients.read", "clients.write"}) {
		t.Fatalf("support role = %+v", snap.Roles)
	}
	must(t, st.DeleteGrant(ctx, "t", "g1"))
	want(t, st.DeleteGrant(ctx, "t", "g1"), org.ErrNotFound)
	must(t, st.DeleteRole(ctx, "t", "auditor"))
	want(t, st.PutMember(ctx, member("t", "carol", "auditor")), org.ErrNotFound)
}

func testVersionMoves(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	must(t, st.CreateTenant(ctx, member("u", "alice", org.RoleOwner)))
	last, err := st.Version(ctx, "t")
	must(t, err)
	other, err := st.Version(ctx, "u")
	must(t, err)
	step := func(name string, f func() error) {
		t.Helper()
		must(t, f())
		v, err := st.Version(ctx, "t")
		must(t, err)
		if v <= last {
			t.Fatalf("%s did not move the version (%d -> %d)", name, last, v)
		}
		last = v
		snap, err := st.Snapshot(ctx, "t")
		must(t, err)
		if snap.Version != v {
			t.Fatalf("Snapshot.Version = %d, Version = %d", snap.Version, v)
		}
	}
	step("PutMember", func() error { return st.PutMember(ctx, member("t", "bob", org.RoleMember)) })
	step("PutRole", func() error {
		return st.PutRole(ctx, "t", org.Role{Name: "r", Permissions: []org.Permission{"a.read"}})
	})
	step("PutGrant", func() error {
		return st.PutGrant(ctx, org.Grant{ID: "g", Tenant: "t", User: "bob", Role: "r", Resource: org.Resource{Type: "x", ID: "1"}, Created: t0})
	})
	step("DeleteGrant", func() error { return st.DeleteGrant(ctx, "t", "g") })
	step("DeleteRole", func() error { return st.DeleteRole(ctx, "t", "r") })
	step("RemoveMember", func() error { return st.RemoveMember(ctx, "t", "bob") })
	must(t, st.CreateInvitation(ctx, org.Invitation{ID: "i", Tenant: "t", Email: "c@example.com", Role: org.RoleMember, Hash: hash("i"), Created: t0, Expires: t0.Add(time.Hour)}))
	step("AcceptInvitation", func() error {
		_, err := st.AcceptInvitation(ctx, hash("i"), "c@example.com", "carol", t0)
		return err
	})
	v, err := st.Version(ctx, "u")
	must(t, err)
	if v != other {
		t.Fatalf("changes to t moved u's version")
	}
}

func testInvitations(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	inv := org.Invitation{ID: "i1", Tenant: "t", Email: "bob@example.com", Role: org.RoleMember, By: "alice", Hash: hash("one"), Created: t0, Expires: t0.Add(time.Hour)}
	want(t, st.CreateInvitation(ctx, org.Invitation{ID: "x", Tenant: "nope", Hash: hash("x"), Expires: t0}), org.ErrNotFound)
	must(t, st.CreateInvitation(ctx, inv))
	inv2 := inv
	inv2.ID, inv2.Hash, inv2.Email, inv2.Created = "i2", hash("two"), "carol@example.com", t0.Add(time.Second)
	must(t, st.CreateInvitation(ctx, inv2))

	list, err := st.Invitations(ctx, "t")
	must(t, err)
	if len(list) != 2 || list[0] != inv || list[1] != inv2 {
		t.Fatalf("Invitations = %+v", list)
	}
	_, err = st.AcceptInvitation(ctx, hash("one"), "mallory@example.com", "mallory", t0)
	want(t, err, org.ErrWrongAddress)
	_, err = st.AcceptInvitation(ctx, hash("one"), "bob@example.com", "alice", t0)
	want(t, err, org.ErrDuplicate)
	_, err = st.AcceptInvitation(ctx, hash("one"), "bob@example.com", "bob", t0.Add(time.Hour))
	want(t, err, org.ErrNotFound) // expired
	_, err = st.AcceptInvitation(ctx, hash("nope"), "bob@example.com", "bob", t0)
	want(t, err, org.ErrNotFound)
	got, err := st.AcceptInvitation(ctx, hash("one"), "bob@example.com", "bob", t0.Add(time.Minute))
	must(t, err)
	if got != inv {
		t.Fatalf("accepted %+v, want %+v", got, inv)
	}
	_, err = st.AcceptInvitation(ctx, hash("one"), "bob@example.com", "bob2", t0.Add(time.Minute))
	want(t, err, org.ErrNotFound) // single use
	ms, err := st.Memberships(ctx, "bob")
	must(t, err)
	if len(ms) != 1 || ms[0].Role != org.RoleMember || ms[0].Tenant != "t" {
		t.Fatalf("bob's memberships = %+v", ms)
	}
	want(t, st.RevokeInvitation(ctx, "other", "i2"), org.ErrNotFound)
	must(t, st.RevokeInvitation(ctx, "t", "i2"))
	want(t, st.RevokeInvitation(ctx, "t", "i2"), org.ErrNotFound)
	_, err = st.AcceptInvitation(ctx, hash("two"), "carol@example.com", "carol", t0)
	want(t, err, org.ErrNotFound)
	list, err = st.Invitations(ctx, "t")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("Invitations after use and revoke = %+v", list)
	}
}

func testTokens(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	must(t, st.PutMember(ctx, member("t", "bob", org.RoleMember)))
	a := org.Token{ID: "k1", Tenant: "t", User: "alice", Name: "backup", Hint: "bwk_abcd", Hash: hash("a"),
		Permissions: []org.Permission{"clients.read", "export.run"}, Created: t0, Expires: t0.Add(24 * time.Hour)}
	b := a
	b.ID, b.User, b.Hash, b.Created, b.Permissions = "k2", "bob", hash("b"), t0.Add(time.Second), []org.Permission{"clients.read"}
	must(t, st.CreateToken(ctx, a))
	must(t, st.CreateToken(ctx, b))
	want(t, st.CreateToken(ctx, org.Token{ID: "k9", Tenant: "nope", User: "alice", Hash: hash("z")}), org.ErrNotFound)

	got, err := st.UseToken(ctx, hash("a"), t0.Add(time.Minute), "192.0.2.1", t0.Add(time.Minute))
	must(t, err)
	if got.ID != "k1" || !got.LastUsed.IsZero() || !slices.Equal(got.Permissions, a.Permissions) || !got.Expires.Equal(a.Expires) {
		t.Fatalf("first use = %+v", got)
	}
	// Within the interval the use is not written again.
	got, err = st.UseToken(ctx, hash("a"), t0.Add(90*time.Second), "192.0.2.2", t0.Add(30*time.Second))
	must(t, err)
	if !got.LastUsed.Equal(t0.Add(time.Minute)) || got.LastIP != "192.0.2.1" {
		t.Fatalf("second use = %+v", got)
	}
	got, err = st.UseToken(ctx, hash("a"), t0.Add(3*time.Minute), "192.0.2.3", t0.Add(2*time.Minute))
	must(t, err)
	if !got.LastUsed.Equal(t0.Add(time.Minute)) {
		t.Fatalf("third use = %+v", got)
	}
	all, err := st.Tokens(ctx, "t", "")
	must(t, err)
	if len(all) != 2 || all[0].ID != "k1" || all[1].ID != "k2" || !all[0].LastUsed.Equal(t0.Add(3*time.Minute)) || all[0].LastIP != "192.0.2.3" {
		t.Fatalf("Tokens = %+v", all)
	}
	mine, err := st.Tokens(ctx, "t", "bob")
	must(t, err)
	if len(mine) != 1 || mine[0].ID != "k2" || mine[0].Hint != "bwk_abcd" || mine[0].Name != "backup" {
		t.Fatalf("bob's tokens = %+v", mine)
	}
	want(t, st.RevokeToken(ctx, "other", "k1"), org.ErrNotFound)
	must(t, st.RevokeToken(ctx, "t", "k1"))
	want(t, st.RevokeToken(ctx, "t", "k1"), org.ErrNotFound)
	_, err = st.UseToken(ctx, hash("a"), t0, "", t0)
	want(t, err, org.ErrNotFound)
}

// testConcurrentDemotions demotes the last two owners at once, many
// times: exactly one owner must remain every time.
func testConcurrentDemotions(t *testing.T, st org.Store) {
	ctx := context.Background()
	for i := range 20 {
		tenant := fmt.Sprintf("t%d", i)
		must(t, st.CreateTenant(ctx, member(tenant, "alice", org.RoleOwner)))
		must(t, st.PutMember(ctx, member(tenant, "bob", org.RoleOwner)))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, u := range []string{"alice", "bob"} {
			wg.Go(func() { errs[j] = st.PutMember(ctx, member(tenant, u, org.RoleMember)) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, org.ErrLastOwner):
				t.Fatalf("demotion: %v", err)
			}
		}
		snap, err := st.Snapshot(ctx, tenant)
		must(t, err)
		owners := 0
		for _, m := range snap.Members {
			if m.Role == org.RoleOwner {
				owners++
			}
		}
		if ok != 1 || owners != 1 {
			t.Fatalf("round %d: %d demotions succeeded, %d owners left", i, ok, owners)
		}
	}
}

// testConcurrentAccept uses one invitation from several goroutines: one
// membership results.
func testConcurrentAccept(t *testing.T, st org.Store) {
	ctx := context.Background()
	must(t, st.CreateTenant(ctx, member("t", "alice", org.RoleOwner)))
	must(t, st.CreateInvitation(ctx, org.Invitation{ID: "i", Tenant: "t", Email: "x@example.com", Role: org.RoleMember, Hash: hash("i"), Created: t0, Expires: t0.Add(time.Hour)}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Go(func() {
			_, err := st.AcceptInvitation(ctx, hash("i"), "x@example.com", fmt.Sprintf("u%d", i), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, org.ErrNotFound):
				t.Errorf("accept: %v", err)
			}
		})
	}
	wg.Wait()
	snap, err := st.Snapshot(ctx, "t")
	must(t, err)
	if won != 1 || len(snap.Members) != 2 {
		t.Fatalf("%d accepts won, %d members", won, len(snap.Members))
	}
}

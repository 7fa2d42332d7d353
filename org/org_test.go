package org_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var catalogue = []org.Permission{"clients.read", "clients.write", "export.run", "audit.read"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type recorder struct {
	mu     sync.Mutex
	events []org.Event
}

func (r *recorder) hook(_ context.Context, e org.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) types() []org.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []org.EventType
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

func (r *recorder) last() org.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

// accounts is a host users table.
type accounts struct {
	mu    sync.Mutex
	n     int
	users map[string]string // id -> initial password
}

func (a *accounts) CreateAccount(_ context.Context, email, pw string, mustChange bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !mustChange {
		return "", errors.New("must change not set")
	}
	a.n++
	id := fmt.Sprintf("staff%d", a.n)
	if a.users == nil {
		a.users = map[string]string{}
	}
	a.users[id] = pw
	return id, nil
}

// existing is a host that finds an existing account by address.
type existing string

func (e existing) CreateAccount(context.Context, string, string, bool) (string, error) {
	return string(e), nil
}

type fixture struct {
	st    org.Store
	clock *clock
	rec   *recorder
	acc   *accounts
	m     *org.Manager
}

func (f *fixture) config() org.Config {
	return org.Config{Permissions: catalogue, Now: f.clock.Now, Hook: f.rec.hook, Accounts: f.acc}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: memstore.NewOrgStore(), clock: newClock(), rec: &recorder{}, acc: &accounts{}}
	var err error
	f.m, err = org.New(f.st, f.config())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, f.m.CreateTenant(ctx, "acme", org.Actor{User: "olivia", IP: "192.0.2.1"}))
	for u, role := range map[string]string{"adam": org.RoleAdministrator, "mia": org.RoleMember, "rita": org.RoleReadOnly} {
		require.NoError(t, f.st.PutMember(ctx, org.Member{Tenant: "acme", User: u, Role: role, Joined: f.clock.Now()}))
	}
	return f
}

func can(t *testing.T, m *org.Manager, tenant, user string, p org.Permission, res org.Resource) bool {
	t.Helper()
	ok, err := m.Can(context.Background(), tenant, user, p, res)
	require.NoError(t, err)
	return ok
}

func TestNewZeroConfig(t *testing.T) {
	t.Parallel()
	m, err := org.New(memstore.NewOrgStore(), org.Config{})
	require.NoError(t, err)
	require.Equal(t, []org.Permission{org.PermMembersManage}, m.Permissions())
	ctx := context.Background()
	require.NoError(t, m.CreateTenant(ctx, "t", org.Actor{User: "u"}))
	require.True(t, can(t, m, "t", "u", org.PermMembersManage, org.Resource{}))
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "u"}, "t", org.TokenSpec{Permissions: []org.Permission{org.PermMembersManage}})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "bwk_"))
	require.Len(t, tok, 4+43+6)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	st := memstore.NewOrgStore()
	_, err := org.New(nil, org.Config{})
	require.Error(t, err)
	many := make([]org.Permission, 300)
	for i := range many {
		many[i] = org.Permission(fmt.Sprintf("p%d.read", i))
	}
	for name, cfg := range map[string]org.Config{
		"cache above 1s":   {CacheTTL: 2 * time.Second},
		"negative":         {TokenTTL: -1},
		"ttl above max":    {TokenTTL: 400 * 24 * time.Hour},
		"prefix":           {TokenPrefix: "BWK-"},
		"unknown member":   {MemberPermissions: []org.Permission{"nope"}},
		"space in name":    {Permissions: []org.Permission{"a b"}},
		"too many":         {Permissions: many},
		"unknown readonly": {ReadOnlyPermissions: []org.Permission{"nope"}},
	} {
		_, err := org.New(st, cfg)
		require.Error(t, err, name)
	}
}

func TestBuiltInRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	all := append([]org.Permission{org.PermMembersManage}, catalogue...)
	for _, p := range all {
		require.True(t, can(t, f.m, "acme", "olivia", p, org.Resource{}), p)
		require.True(t, can(t, f.m, "acme", "adam", p, org.Resource{}), p)
		require.Equal(t, p != org.PermMembersManage, can(t, f.m, "acme", "mia", p, org.Resource{}), p)
		require.Equal(t, strings.HasSuffix(string(p), ".read"), can(t, f.m, "acme", "rita", p, org.Resource{}), p)
		require.False(t, can(t, f.m, "acme", "stranger", p, org.Resource{}), p)
		require.False(t, can(t, f.m, "nowhere", "olivia", p, org.Resource{}), p)
	}
	_, err := f.m.Can(context.Background(), "acme", "olivia", "clients.delete", org.Resource{})
	var upe *org.UnknownPermissionError
	require.ErrorAs(t, err, &upe)
	require.Equal(t, org.Permission("clients.delete"), upe.Permission)

	roles, err := f.m.Roles(context.Background(), "acme")
	require.NoError(t, err)
	require.Len(t, roles, 4)
	require.Equal(t, org.RoleReadOnly, roles[3].Name)
	require.Equal(t, []org.Permission{"clients.read", "audit.read"}, roles[3].Permissions)
}

func TestUserInSeveralTenants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.m.CreateTenant(ctx, "globex", org.Actor{User: "rita"}))
	require.ErrorIs(t, f.m.CreateTenant(ctx, "globex", org.Actor{User: "x"}), org.ErrDuplicate)
	require.True(t, can(t, f.m, "globex", "rita", "clients.write", org.Resource{}))
	require.False(t, can(t, f.m, "acme", "rita", "clients.write", org.Resource{}))
	ts, err := f.m.Tenants(ctx, "rita")
	require.NoError(t, err)
	require.Equal(t, []string{"acme", "globex"}, []string{ts[0].Tenant, ts[1].Tenant})
	require.Equal(t, []string{org.RoleReadOnly, org.RoleOwner}, []string{ts[0].Role, ts[1].Role})
}

func TestInvitation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	admin := org.Actor{User: "adam", IP: "198.51.100.7"}
	tok, inv, err := f.m.Invite(ctx, admin, "acme", "  Bea@Example.COM ", org.RoleMember)
	require.NoError(t, err)
	require.Len(t, tok, 43)
	require.Equal(t, "bea@example.com", inv.Email)
	require.Equal(t, sha256.Sum256([]byte(tok)), inv.Hash, "only the hash is kept")
	require.Equal(t, f.clock.Now().Add(7*24*time.Hour), inv.Expires)
	e := f.rec.last()
	require.Equal(t, org.EventInvited, e.Type)
	require.Equal(t, "adam", e.Actor)
	require.Equal(t, "198.51.100.7", e.IP)
	require.Equal(t, inv.ID, e.ID)

	list, err := f.m.Invitations(ctx, admin, "acme")
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = f.m.Accept(ctx, org.Actor{User: "mallory"}, tok, "mallory@example.com")
	require.ErrorIs(t, err, org.ErrWrongAddress)
	_, err = f.m.Accept(ctx, org.Actor{User: "bea"}, otherLast(tok), "bea@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)
	_, err = f.m.Accept(ctx, org.Actor{User: "bea"}, "short", "bea@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)
	mem, err := f.m.Accept(ctx, org.Actor{User: "bea", IP: "203.0.113.9"}, tok, "BEA@example.com")
	require.NoError(t, err)
	require.Equal(t, org.RoleMember, mem.Role)
	require.True(t, can(t, f.m, "acme", "bea", "clients.write", org.Resource{}))
	require.Equal(t, org.EventInvitationAccepted, f.rec.last().Type)
	_, err = f.m.Accept(ctx, org.Actor{User: "bea2"}, tok, "bea@example.com")
	require.ErrorIs(t, err, org.ErrNotFound, "single use")

	// Expiry, by the injected clock.
	tok2, _, err := f.m.Invite(ctx, admin, "acme", "cy@example.com", org.RoleReadOnly)
	require.NoError(t, err)
	f.clock.Add(7 * 24 * time.Hour)
	_, err = f.m.Accept(ctx, org.Actor{User: "cy"}, tok2, "cy@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)

	// Revocation.
	tok3, inv3, err := f.m.Invite(ctx, admin, "acme", "di@example.com", org.RoleReadOnly)
	require.NoError(t, err)
	require.NoError(t, f.m.RevokeInvitation(ctx, admin, "acme", inv3.ID))
	_, err = f.m.Accept(ctx, org.Actor{User: "di"}, tok3, "di@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)

	_, _, err = f.m.Invite(ctx, admin, "acme", "not-an-address", org.RoleMember)
	require.ErrorIs(t, err, org.ErrInvalid)
	_, _, err = f.m.Invite(ctx, admin, "acme", "x@example.com", "ghost")
	require.ErrorIs(t, err, org.ErrNotFound)
}

func TestCreateStaff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.m.CreateStaff(ctx, org.Actor{User: "adam"}, "acme", "Eve@example.com", org.RoleReadOnly)
	require.NoError(t, err)
	require.True(t, s.MustChange)
	require.Len(t, s.Password, 20)
	require.Equal(t, f.acc.users[s.User], s.Password)
	for _, c := range s.Password {
		require.NotContains(t, "0O1lIoij", string(c), "look-alike character")
	}
	require.True(t, can(t, f.m, "acme", s.User, "clients.read", org.Resource{}))
	require.False(t, can(t, f.m, "acme", s.User, "clients.write", org.Resource{}))
	require.Equal(t, org.EventStaffCreated, f.rec.last().Type)

	// Two passwords differ.
	s2, err := f.m.CreateStaff(ctx, org.Actor{User: "adam"}, "acme", "fay@example.com", org.RoleReadOnly)
	require.NoError(t, err)
	require.NotEqual(t, s.Password, s2.Password)

	_, err = f.m.CreateStaff(ctx, org.Actor{User: "mia"}, "acme", "gil@example.com", org.RoleReadOnly)
	require.ErrorIs(t, err, org.ErrForbidden)

	// A host answering with an existing member's id changes no role.
	cfg := f.config()
	cfg.Accounts = existing("olivia")
	m, err := org.New(f.st, cfg)
	require.NoError(t, err)
	_, err = m.CreateStaff(ctx, org.Actor{User: "adam"}, "acme", "olivia@example.com", org.RoleReadOnly)
	require.ErrorIs(t, err, org.ErrDuplicate)
	require.True(t, can(t, f.m, "acme", "olivia", org.PermMembersManage, org.Resource{}))

	m, err = org.New(f.st, org.Config{})
	require.NoError(t, err)
	_, err = m.CreateStaff(ctx, org.Actor{User: "adam"}, "acme", "gil@example.com", org.RoleReadOnly)
	require.ErrorIs(t, err, org.ErrNoAccounts)
}

func TestEscalationGuards(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner, admin, mia := org.Actor{User: "olivia"}, org.Actor{User: "adam"}, org.Actor{User: "mia"}

	// Without members.manage nothing can be handed out.
	_, _, err := f.m.Invite(ctx, mia, "acme", "x@example.com", org.RoleReadOnly)
	require.ErrorIs(t, err, org.ErrForbidden)
	require.Equal(t, org.EventDenied, f.rec.last().Type)
	require.ErrorIs(t, f.m.SetRole(ctx, mia, "acme", "rita", org.RoleMember), org.ErrForbidden)
	require.ErrorIs(t, f.m.RemoveMember(ctx, mia, "acme", "rita"), org.ErrForbidden)

	// Only an owner makes, unmakes or removes owners.
	_, _, err = f.m.Invite(ctx, admin, "acme", "x@example.com", org.RoleOwner)
	require.ErrorIs(t, err, org.ErrForbidden)
	require.ErrorIs(t, f.m.SetRole(ctx, admin, "acme", "mia", org.RoleOwner), org.ErrForbidden)
	require.ErrorIs(t, f.m.SetRole(ctx, admin, "acme", "olivia", org.RoleMember), org.ErrForbidden)
	require.ErrorIs(t, f.m.RemoveMember(ctx, admin, "acme", "olivia"), org.ErrForbidden)

	// Nobody edits their own role.
	require.ErrorIs(t, f.m.SetRole(ctx, admin, "acme", "adam", org.RoleOwner), org.ErrOwnRole)
	require.ErrorIs(t, f.m.SetRole(ctx, owner, "acme", "olivia", org.RoleMember), org.ErrOwnRole)

	// The last owner can neither leave nor be demoted.
	require.ErrorIs(t, f.m.RemoveMember(ctx, owner, "acme", "olivia"), org.ErrLastOwner)

	// A custom role holding members.manage cannot give more than it has.
	require.NoError(t, f.m.DefineRole(ctx, owner, "acme", org.Role{Name: "team-lead", Permissions: []org.Permission{org.PermMembersManage, "clients.read"}}))
	require.NoError(t, f.m.SetRole(ctx, owner, "acme", "mia", "team-lead"))
	lead := mia
	require.ErrorIs(t, f.m.SetRole(ctx, lead, "acme", "rita", org.RoleMember), org.ErrForbidden, "member has clients.write")
	require.ErrorIs(t, f.m.SetRole(ctx, lead, "acme", "adam", org.RoleReadOnly), org.ErrForbidden, "cannot demote someone above")
	require.ErrorIs(t, f.m.DefineRole(ctx, lead, "acme", org.Role{Name: "x", Permissions: []org.Permission{"clients.write"}}), org.ErrForbidden)
	require.ErrorIs(t, f.m.DefineRole(ctx, lead, "acme", org.Role{Name: "team-lead", Permissions: []org.Permission{org.PermMembersManage, "clients.read"}}), org.ErrOwnRole)
	_, err = f.m.Grant(ctx, lead, "acme", "rita", org.RoleAdministrator, org.Resource{Type: "client", ID: "7"})
	require.ErrorIs(t, err, org.ErrForbidden)
	_, err = f.m.Grant(ctx, lead, "acme", "mia", org.RoleReadOnly, org.Resource{Type: "client", ID: "7"})
	require.ErrorIs(t, err, org.ErrOwnRole)
	_, _, err = f.m.CreateToken(ctx, lead, "acme", org.TokenSpec{Permissions: []org.Permission{"export.run"}})
	require.ErrorIs(t, err, org.ErrForbidden)
	require.ErrorIs(t, f.m.SetRole(ctx, lead, "acme", "rita", "team-lead"), org.ErrForbidden, "rita holds audit.read, lead does not")
	require.NoError(t, f.m.DefineRole(ctx, owner, "acme", org.Role{Name: "viewer", Permissions: []org.Permission{"clients.read"}}))
	_, _, err = f.m.Invite(ctx, lead, "acme", "v@example.com", "viewer")
	require.NoError(t, err, "within the lead's own permissions")

	// Unknown permissions are a typed error.
	var upe *org.UnknownPermissionError
	require.ErrorAs(t, f.m.DefineRole(ctx, owner, "acme", org.Role{Name: "x", Permissions: []org.Permission{"rockets.launch"}}), &upe)
	require.ErrorIs(t, f.m.DefineRole(ctx, owner, "acme", org.Role{Name: org.RoleOwner}), org.ErrInvalid)

	// A role in use cannot be deleted.
	require.ErrorIs(t, f.m.DeleteRole(ctx, owner, "acme", "team-lead"), org.ErrRoleInUse)
	require.ErrorIs(t, f.m.DeleteRole(ctx, owner, "acme", org.RoleMember), org.ErrInvalid)
}

func TestLastOwnerWithTwoOwners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := org.Actor{User: "olivia"}
	require.NoError(t, f.m.SetRole(ctx, owner, "acme", "adam", org.RoleOwner))
	// adam may now demote olivia, and then cannot leave.
	require.NoError(t, f.m.SetRole(ctx, org.Actor{User: "adam"}, "acme", "olivia", org.RoleAdministrator))
	require.ErrorIs(t, f.m.RemoveMember(ctx, org.Actor{User: "adam"}, "acme", "adam"), org.ErrLastOwner)
	require.True(t, can(t, f.m, "acme", "olivia", org.PermMembersManage, org.Resource{}))
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, _, err := f.m.CreateToken(ctx, org.Actor{User: "mia"}, "acme", org.TokenSpec{Name: "ci", Permissions: []org.Permission{"clients.read"}})
	require.NoError(t, err)
	require.NoError(t, f.m.RemoveMember(ctx, org.Actor{User: "adam", IP: "192.0.2.5"}, "acme", "mia"))
	e := f.rec.last()
	require.Equal(t, org.EventMemberRemoved, e.Type)
	require.Equal(t, "mia", e.User)
	require.Equal(t, "adam", e.Actor)
	require.Equal(t, "acme", e.Tenant)
	require.False(t, can(t, f.m, "acme", "mia", "clients.read", org.Resource{}))
	_, err = f.m.ValidateToken(ctx, tok, "")
	require.ErrorIs(t, err, org.ErrInvalidToken, "tokens end with their creator's membership")
	// A member may leave.
	require.NoError(t, f.m.RemoveMember(ctx, org.Actor{User: "rita"}, "acme", "rita"))
	require.ErrorIs(t, f.m.RemoveMember(ctx, org.Actor{User: "adam"}, "acme", "rita"), org.ErrNotFound)
	ms, err := f.m.Members(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, ms, 2)
}

func TestResourceGrantsAndVisible(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	admin := org.Actor{User: "adam"}
	require.NoError(t, f.m.DefineRole(ctx, admin, "acme", org.Role{Name: "case-worker", Permissions: []org.Permission{"clients.read", "clients.write"}}))
	g1, err := f.m.Grant(ctx, admin, "acme", "rita", "case-worker", org.Resource{Type: "client", ID: "7"})
	require.NoError(t, err)
	require.Equal(t, org.EventGranted, f.rec.last().Type)
	_, err = f.m.Grant(ctx, admin, "acme", "rita", "case-worker", org.Resource{Type: "client", Group: "north"})
	require.NoError(t, err)
	_, err = f.m.Grant(ctx, admin, "acme", "rita", "case-worker", org.Resource{Type: "client", ID: "7"})
	require.ErrorIs(t, err, org.ErrDuplicate)
	_, err = f.m.Grant(ctx, admin, "acme", "rita", "case-worker", org.Resource{Type: "client", ID: "7", Group: "x"})
	require.ErrorIs(t, err, org.ErrInvalid)
	_, err = f.m.Grant(ctx, admin, "acme", "ghost", "case-worker", org.Resource{Type: "client", ID: "7"})
	require.ErrorIs(t, err, org.ErrNotFound)

	w := org.Permission("clients.write")
	require.True(t, can(t, f.m, "acme", "rita", w, org.Resource{Type: "client", ID: "7"}))
	require.True(t, can(t, f.m, "acme", "rita", w, org.Resource{Type: "client", ID: "9", Group: "north"}))
	require.False(t, can(t, f.m, "acme", "rita", w, org.Resource{Type: "client", ID: "8", Group: "south"}))
	require.False(t, can(t, f.m, "acme", "rita", w, org.Resource{Type: "invoice", ID: "7"}))
	require.False(t, can(t, f.m, "acme", "rita", w, org.Resource{}))

	v, err := f.m.Visible(ctx, "acme", "rita", w, "client")
	require.NoError(t, err)
	require.Equal(t, org.Visible{IDs: []string{"7"}, Groups: []string{"north"}}, v)
	v, err = f.m.Visible(ctx, "acme", "rita", "clients.read", "client")
	require.NoError(t, err)
	require.Equal(t, org.Visible{All: true}, v)
	v, err = f.m.Visible(ctx, "acme", "stranger", "clients.read", "client")
	require.NoError(t, err)
	require.Equal(t, org.Visible{}, v)

	grants, err := f.m.Grants(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, grants, 2)
	require.NoError(t, f.m.RevokeGrant(ctx, admin, "acme", g1.ID))
	require.Equal(t, org.EventGrantRevoked, f.rec.last().Type)
	require.False(t, can(t, f.m, "acme", "rita", w, org.Resource{Type: "client", ID: "7"}))
	require.ErrorIs(t, f.m.RevokeGrant(ctx, admin, "acme", g1.ID), org.ErrNotFound)
}

// TestCacheBound: a change made through one instance is honoured by
// another within CacheTTL, judged by the injected clock.
func TestCacheBound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other, err := org.New(f.st, f.config())
	require.NoError(t, err)
	require.True(t, can(t, other, "acme", "mia", "clients.write", org.Resource{}))

	require.NoError(t, f.m.SetRole(ctx, org.Actor{User: "adam"}, "acme", "mia", org.RoleReadOnly))
	require.False(t, can(t, f.m, "acme", "mia", "clients.write", org.Resource{}), "the changing instance applies it at once")
	// other may still answer from its snapshot, but not past the bound.
	f.clock.Add(time.Second)
	require.False(t, can(t, other, "acme", "mia", "clients.write", org.Resource{}))
}

// failing wraps a store and fails every read once armed.
type failing struct {
	org.Store
	mu   sync.Mutex
	fail bool
}

var errDown = errors.New("store down")

func (s *failing) arm() { s.mu.Lock(); s.fail = true; s.mu.Unlock() }

func (s *failing) down() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.fail }

func (s *failing) Version(ctx context.Context, tenant string) (int64, error) {
	if s.down() {
		return 0, errDown
	}
	return s.Store.Version(ctx, tenant)
}

func (s *failing) Snapshot(ctx context.Context, tenant string) (org.Snapshot, error) {
	if s.down() {
		return org.Snapshot{}, errDown
	}
	return s.Store.Snapshot(ctx, tenant)
}

func (s *failing) UseToken(ctx context.Context, h [32]byte, at time.Time, ip string, before time.Time) (org.Token, error) {
	if s.down() {
		return org.Token{}, errDown
	}
	return s.Store.UseToken(ctx, h, at, ip, before)
}

func TestStoreErrorDenies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &failing{Store: f.st}
	m, err := org.New(st, f.config())
	require.NoError(t, err)
	ctx := context.Background()
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "mia"}, "acme", org.TokenSpec{Permissions: []org.Permission{"clients.read"}})
	require.NoError(t, err)
	require.True(t, can(t, m, "acme", "mia", "clients.read", org.Resource{}))
	st.arm()
	f.clock.Add(time.Second)
	ok, err := m.Can(ctx, "acme", "mia", "clients.read", org.Resource{})
	require.ErrorIs(t, err, errDown)
	require.False(t, ok)
	_, err = m.Visible(ctx, "acme", "mia", "clients.read", "client")
	require.ErrorIs(t, err, errDown)
	_, err = m.ValidateToken(ctx, tok, "")
	require.ErrorIs(t, err, errDown)
	require.NotErrorIs(t, err, org.ErrInvalidToken)

	// The middleware answers 500, never the handler.
	h := m.Require("clients.read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler reached") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(org.WithPrincipal(ctx, "acme", "mia"), "GET", "/", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	m.TokenMiddleware(h).ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestRequire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range []struct {
		name string
		ctx  context.Context
		perm org.Permission
		code int
	}{
		{"allowed", org.WithPrincipal(context.Background(), "acme", "mia"), "clients.write", http.StatusNoContent},
		{"denied", org.WithPrincipal(context.Background(), "acme", "rita"), "clients.write", http.StatusForbidden},
		{"no principal", context.Background(), "clients.read", http.StatusForbidden},
		{"empty principal", org.WithPrincipal(context.Background(), "", ""), "clients.read", http.StatusForbidden},
		{"other tenant", org.WithPrincipal(context.Background(), "globex", "mia"), "clients.read", http.StatusForbidden},
		{"unknown permission", org.WithPrincipal(context.Background(), "acme", "olivia"), "rockets.launch", http.StatusInternalServerError},
	} {
		rec := httptest.NewRecorder()
		f.m.Require(tc.perm)(ok).ServeHTTP(rec, httptest.NewRequestWithContext(tc.ctx, "GET", "/", nil))
		require.Equal(t, tc.code, rec.Code, tc.name)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	mia := org.Actor{User: "mia", IP: "192.0.2.10"}
	tok, rec, err := f.m.CreateToken(ctx, mia, "acme", org.TokenSpec{Name: "backup", Permissions: []org.Permission{"export.run", "clients.read"}})
	require.NoError(t, err)
	require.True(t, org.ParseToken("bwk_", tok))
	require.Equal(t, tok[:8], rec.Hint)
	require.Equal(t, sha256.Sum256([]byte(tok)), rec.Hash)
	require.Equal(t, f.clock.Now().Add(90*24*time.Hour), rec.Expires)
	require.Equal(t, []org.Permission{"clients.read", "export.run"}, rec.Permissions)

	// The scope cannot exceed the creator's permissions, nor the maximum.
	_, _, err = f.m.CreateToken(ctx, mia, "acme", org.TokenSpec{Permissions: []org.Permission{org.PermMembersManage}})
	require.ErrorIs(t, err, org.ErrForbidden)
	_, _, err = f.m.CreateToken(ctx, mia, "acme", org.TokenSpec{Permissions: []org.Permission{"export.run"}, TTL: 400 * 24 * time.Hour})
	require.ErrorIs(t, err, org.ErrInvalid)
	_, _, err = f.m.CreateToken(ctx, mia, "acme", org.TokenSpec{})
	require.ErrorIs(t, err, org.ErrInvalid)
	_, _, err = f.m.CreateToken(ctx, org.Actor{User: "stranger"}, "acme", org.TokenSpec{Permissions: []org.Permission{"export.run"}})
	require.ErrorIs(t, err, org.ErrForbidden)

	p, err := f.m.ValidateToken(ctx, tok, "203.0.113.5")
	require.NoError(t, err)
	require.Equal(t, "acme", p.Tenant)
	require.Equal(t, "mia", p.User)
	require.Equal(t, rec.ID, p.TokenID)

	// Middleware: scope and creator's permissions both apply.
	call := func(auth string, perm org.Permission) int {
		h := f.m.TokenMiddleware(f.m.Require(perm)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pr, ok := org.PrincipalFrom(r.Context())
			require.True(t, ok)
			require.Equal(t, "mia", pr.User)
			w.WriteHeader(http.StatusNoContent)
		})))
		req := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusUnauthorized {
			require.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
		}
		return w.Code
	}
	require.Equal(t, http.StatusNoContent, call("Bearer "+tok, "export.run"))
	require.Equal(t, http.StatusNoContent, call("bearer "+tok, "clients.read"))
	require.Equal(t, http.StatusForbidden, call("Bearer "+tok, "clients.write"), "outside the scope")
	require.Equal(t, http.StatusForbidden, call("", "export.run"), "no credentials")
	require.Equal(t, http.StatusUnauthorized, call("Bearer "+otherLast(tok), "export.run"))
	require.Equal(t, http.StatusUnauthorized, call("Bearer nonsense", "export.run"))

	// The creator's current permissions bound the token.
	require.NoError(t, f.m.SetRole(ctx, org.Actor{User: "adam"}, "acme", "mia", org.RoleReadOnly))
	require.Equal(t, http.StatusForbidden, call("Bearer "+tok, "export.run"))
	require.Equal(t, http.StatusNoContent, call("Bearer "+tok, "clients.read"))

	// Last use is recorded, at most once per interval.
	list, err := f.m.Tokens(ctx, mia, "acme")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, f.clock.Now(), list[0].LastUsed)
	require.Equal(t, "203.0.113.5", list[0].LastIP)
	f.clock.Add(30 * time.Second)
	_, err = f.m.ValidateToken(ctx, tok, "203.0.113.6")
	require.NoError(t, err)
	list, _ = f.m.Tokens(ctx, mia, "acme")
	require.Equal(t, "203.0.113.5", list[0].LastIP)
	f.clock.Add(time.Minute)
	_, err = f.m.ValidateToken(ctx, tok, "203.0.113.7")
	require.NoError(t, err)
	list, _ = f.m.Tokens(ctx, mia, "acme")
	require.Equal(t, "203.0.113.7", list[0].LastIP)

	// Others' tokens: listed and revoked only with members.manage.
	_, other, err := f.m.CreateToken(ctx, org.Actor{User: "rita"}, "acme", org.TokenSpec{Permissions: []org.Permission{"audit.read"}})
	require.NoError(t, err)
	list, _ = f.m.Tokens(ctx, mia, "acme")
	require.Len(t, list, 1)
	list, _ = f.m.Tokens(ctx, org.Actor{User: "adam"}, "acme")
	require.Len(t, list, 2)
	require.ErrorIs(t, f.m.RevokeToken(ctx, mia, "acme", other.ID), org.ErrNotFound)
	require.NoError(t, f.m.RevokeToken(ctx, org.Actor{User: "adam"}, "acme", other.ID))
	require.Equal(t, org.EventTokenRevoked, f.rec.last().Type)
	require.NoError(t, f.m.RevokeToken(ctx, mia, "acme", rec.ID))
	_, err = f.m.ValidateToken(ctx, tok, "")
	require.ErrorIs(t, err, org.ErrInvalidToken)

	// Expiry.
	tok2, _, err := f.m.CreateToken(ctx, mia, "acme", org.TokenSpec{Permissions: []org.Permission{"clients.read"}, TTL: time.Hour})
	require.NoError(t, err)
	f.clock.Add(time.Hour)
	_, err = f.m.ValidateToken(ctx, tok2, "")
	require.ErrorIs(t, err, org.ErrInvalidToken)
}

// counting counts token lookups.
type counting struct {
	org.Store
	mu sync.Mutex
	n  int
}

func (s *counting) UseToken(ctx context.Context, h [32]byte, at time.Time, ip string, before time.Time) (org.Token, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Store.UseToken(ctx, h, at, ip, before)
}

func TestMalformedTokenNeverReachesStore(t *testing.T) {
	t.Parallel()
	st := &counting{Store: memstore.NewOrgStore()}
	m, err := org.New(st, org.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, m.CreateTenant(ctx, "t", org.Actor{User: "u"}))
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "u"}, "t", org.TokenSpec{Permissions: []org.Permission{org.PermMembersManage}})
	require.NoError(t, err)
	flip := []byte(tok)
	flip[10] ^= 1 // still base62 but the checksum no longer matches
	for _, bad := range []string{"", "bwk_", tok[:len(tok)-1], tok + "0", "ghp_" + tok[4:], string(flip), strings.ToUpper(tok), tok[:20] + "-" + tok[21:]} {
		_, err := m.ValidateToken(ctx, bad, "")
		require.ErrorIs(t, err, org.ErrInvalidToken, bad)
	}
	require.Zero(t, st.n)
	_, err = m.ValidateToken(ctx, tok, "")
	require.NoError(t, err)
	require.Equal(t, 1, st.n)
}

func TestEventsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	admin := org.Actor{User: "adam", IP: "192.0.2.1"}
	inv, _, err := f.m.Invite(ctx, admin, "acme", "h@example.com", org.RoleMember)
	require.NoError(t, err)
	_, err = f.m.Accept(ctx, org.Actor{User: "h"}, inv, "h@example.com")
	require.NoError(t, err)
	staff, err := f.m.CreateStaff(ctx, admin, "acme", "s@example.com", org.RoleMember)
	require.NoError(t, err)
	tok, rec, err := f.m.CreateToken(ctx, admin, "acme", org.TokenSpec{Permissions: []org.Permission{"export.run"}})
	require.NoError(t, err)
	require.NoError(t, f.m.RevokeToken(ctx, admin, "acme", rec.ID))
	require.NoError(t, f.m.DefineRole(ctx, admin, "acme", org.Role{Name: "r", Permissions: []org.Permission{"audit.read"}}))
	require.NoError(t, f.m.SetRole(ctx, admin, "acme", "h", "r"))
	require.Equal(t, []org.EventType{
		org.EventTenantCreated, org.EventInvited, org.EventInvitationAccepted, org.EventStaffCreated,
		org.EventTokenCreated, org.EventTokenRevoked, org.EventRoleDefined, org.EventRoleChanged,
	}, f.rec.types())
	for _, e := range f.rec.events {
		s := fmt.Sprintf("%+v", e)
		for _, secret := range []string{inv, staff.Password, tok, fmt.Sprintf("%x", rec.Hash)} {
			require.NotContains(t, s, secret)
		}
		require.False(t, e.Time.IsZero())
	}
}

func TestCachedCanDoesNotAllocate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.m.DefineRole(ctx, org.Actor{User: "adam"}, "acme", org.Role{Name: "cw", Permissions: []org.Permission{"clients.write"}}))
	_, err := f.m.Grant(ctx, org.Actor{User: "adam"}, "acme", "rita", "cw", org.Resource{Type: "client", Group: "north"})
	require.NoError(t, err)
	res := org.Resource{Type: "client", ID: "9", Group: "north"}
	require.True(t, can(t, f.m, "acme", "rita", "clients.write", res))
	allocs := testing.AllocsPerRun(1000, func() {
		if ok, _ := f.m.Can(ctx, "acme", "rita", "clients.write", res); !ok {
			t.Fatal("denied")
		}
	})
	require.Zero(t, allocs)
}

// An invitation carries its inviter's authority: once the inviter has left,
// or no longer holds members.manage and every permission of the invited
// role, a pending invitation must not make anyone a member. Otherwise an
// administrator about to be removed invites a second address of theirs
// and walks back in with the same role afterwards.
func TestInvitationEndsWithInviterAuthority(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner, admin := org.Actor{User: "olivia"}, org.Actor{User: "adam"}

	tok, _, err := f.m.Invite(ctx, admin, "acme", "adam.alt@example.com", org.RoleAdministrator)
	require.NoError(t, err)
	tok2, _, err := f.m.Invite(ctx, admin, "acme", "adam.alt2@example.com", org.RoleAdministrator)
	require.NoError(t, err)

	// Demoted: adam may no longer hand out the administrator role.
	require.NoError(t, f.m.SetRole(ctx, owner, "acme", "adam", org.RoleMember))
	_, err = f.m.Accept(ctx, org.Actor{User: "adam2"}, tok2, "adam.alt2@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)
	require.False(t, can(t, f.m, "acme", "adam2", org.PermMembersManage, org.Resource{}))

	// Removed.
	require.NoError(t, f.m.RemoveMember(ctx, owner, "acme", "adam"))
	_, err = f.m.Accept(ctx, org.Actor{User: "adam-alt"}, tok, "adam.alt@example.com")
	require.ErrorIs(t, err, org.ErrNotFound)
	require.False(t, can(t, f.m, "acme", "adam-alt", org.PermMembersManage, org.Resource{}))
	members, err := f.m.Members(ctx, "acme")
	require.NoError(t, err)
	for _, mem := range members {
		require.NotContains(t, []string{"adam-alt", "adam2"}, mem.User)
	}

	// An invitation from someone still entitled works as before.
	tok3, _, err := f.m.Invite(ctx, owner, "acme", "eve@example.com", org.RoleAdministrator)
	require.NoError(t, err)
	_, err = f.m.Accept(ctx, org.Actor{User: "eve"}, tok3, "eve@example.com")
	require.NoError(t, err)
}

// A listing made for an API token request must stay within the token's
// scope, as Allowed does: the host has no other way to apply the scope
// (Principal's scope is not exported), so a token scoped to export.run
// must not list the clients its creator may read.
func TestVisibleHonoursTokenScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, _, err := f.m.CreateToken(ctx, org.Actor{User: "mia"}, "acme", org.TokenSpec{Name: "backup", Permissions: []org.Permission{"export.run"}})
	require.NoError(t, err)
	var got, gotInScope org.Visible
	h := f.m.TokenMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := org.PrincipalFrom(r.Context())
		require.True(t, ok)
		var err error
		got, err = f.m.Visible(r.Context(), pr.Tenant, pr.User, "clients.read", "client")
		require.NoError(t, err)
		gotInScope, err = f.m.Visible(r.Context(), pr.Tenant, pr.User, "export.run", "client")
		require.NoError(t, err)
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest("GET", "/clients", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusNoContent, w.Code)
	require.Equal(t, org.Visible{}, got, "clients.read is outside the token's scope")
	require.Equal(t, org.Visible{All: true}, gotInScope)

	// Without a token, Visible answers for the user as before.
	v, err := f.m.Visible(ctx, "acme", "mia", "clients.read", "client")
	require.NoError(t, err)
	require.True(t, v.All)
}

// With an injected clock (Config.Now, for example time.Now itself, which
// carries no monotonic reading once turned into nanoseconds), a step back
// of the wall clock must not stretch the cache bound: a revoked permission
// stays usable on another instance for as long as the step otherwise.
func TestCacheBoundSurvivesClockStepBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other, err := org.New(f.st, f.config())
	require.NoError(t, err)
	require.True(t, can(t, other, "acme", "mia", "clients.write", org.Resource{}))

	f.clock.Add(-time.Hour) // NTP steps the wall clock back
	require.NoError(t, f.m.SetRole(ctx, org.Actor{User: "adam"}, "acme", "mia", org.RoleReadOnly))
	f.clock.Add(time.Second)
	require.False(t, can(t, other, "acme", "mia", "clients.write", org.Resource{}), "the revocation must show within the bound")
}

// otherLast returns s with its last character changed: replacing it with a
// fixed "x" left s unchanged whenever it already ended in "x" (1 run in 62
// or 64), and the test then failed.
func otherLast(s string) string {
	if strings.HasSuffix(s, "x") {
		return s[:len(s)-1] + "y"
	}
	return s[:len(s)-1] + "x"
}

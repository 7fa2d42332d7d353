package memstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/org"
)

// orgStore is the in-memory [org.Store]. One mutex guards everything, so
// every guard it promises (last owner, single-use invitations, tokens
// ending with their creator's membership) is applied atomically.
type orgStore struct {
	mu          sync.Mutex
	tenants     map[string]*orgTenant
	memberships map[string]map[string]string // user -> tenant -> role
	invitations map[[32]byte]org.Invitation
	tokens      map[[32]byte]*org.Token
}

type orgTenant struct {
	version int64
	members map[string]org.Member
	roles   map[string]org.Role
	grants  map[string]org.Grant
}

var _ org.Store = (*orgStore)(nil)

// NewOrgStore returns an empty in-memory [org.Store].
func NewOrgStore() org.Store {
	return &orgStore{
		tenants:     map[string]*orgTenant{},
		memberships: map[string]map[string]string{},
		invitations: map[[32]byte]org.Invitation{},
		tokens:      map[[32]byte]*org.Token{},
	}
}

func orgBuiltIn(role string) bool {
	return role == org.RoleOwner || role == org.RoleAdministrator || role == org.RoleMember || role == org.RoleReadOnly
}

func (t *orgTenant) hasRole(role string) bool {
	_, ok := t.roles[role]
	return ok || orgBuiltIn(role)
}

func (s *orgStore) setMember(m org.Member) {
	t := s.tenants[m.Tenant]
	t.members[m.User] = m
	if s.memberships[m.User] == nil {
		s.memberships[m.User] = map[string]string{}
	}
	s.memberships[m.User][m.Tenant] = m.Role
	t.version++
}

// CreateTenant implements [org.MemberStore].
func (s *orgStore) CreateTenant(_ context.Context, owner org.Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[owner.Tenant]; ok {
		return org.ErrDuplicate
	}
	s.tenants[owner.Tenant] = &orgTenant{members: map[string]org.Member{}, roles: map[string]org.Role{}, grants: map[string]org.Grant{}}
	s.setMember(owner)
	return nil
}

func (t *orgTenant) owners() int {
	n := 0
	for _, m := range t.members {
		if m.Role == org.RoleOwner {
			n++
		}
	}
	return n
}

// PutMember implements [org.MemberStore].
func (s *orgStore) PutMember(_ context.Context, m org.Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[m.Tenant]
	if t == nil || !t.hasRole(m.Role) {
		return org.ErrNotFound
	}
	if old, ok := t.members[m.User]; ok {
		if old.Role == org.RoleOwner && m.Role != org.RoleOwner && t.owners() == 1 {
			return org.ErrLastOwner
		}
		m.Joined = old.Joined
	}
	s.setMember(m)
	return nil
}

// RemoveMember implements [org.MemberStore].
func (s *orgStore) RemoveMember(_ context.Context, tenant, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return org.ErrNotFound
	}
	m, ok := t.members[user]
	if !ok {
		return org.ErrNotFound
	}
	if m.Role == org.RoleOwner && t.owners() == 1 {
		return org.ErrLastOwner
	}
	delete(t.members, user)
	delete(s.memberships[user], tenant)
	if len(s.memberships[user]) == 0 {
		delete(s.memberships, user)
	}
	for id, g := range t.grants {
		if g.User == user {
			delete(t.grants, id)
		}
	}
	for h, tok := range s.tokens {
		if tok.Tenant == tenant && tok.User == user {
			delete(s.tokens, h)
		}
	}
	t.version++
	return nil
}

// Memberships implements [org.MemberStore].
func (s *orgStore) Memberships(_ context.Context, user string) ([]org.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []org.Member
	for tenant := range s.memberships[user] {
		out = append(out, s.tenants[tenant].members[user])
	}
	slices.SortFunc(out, func(a, b org.Member) int { return strings.Compare(a.Tenant, b.Tenant) })
	return out, nil
}

// PutRole implements [org.RoleStore].
func (s *orgStore) PutRole(_ context.Context, tenant string, r org.Role) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return org.ErrNotFound
	}
	t.roles[r.Name] = org.Role{Name: r.Name, Permissions: slices.Clone(r.Permissions)}
	t.version++
	return nil
}

// DeleteRole implements [org.RoleStore].
func (s *orgStore) DeleteRole(_ context.Context, tenant, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return org.ErrNotFound
	}
	if _, ok := t.roles[name]; !ok {
		return org.ErrNotFound
	}
	for _, m := range t.members {
		if m.Role == name {
			return org.ErrRoleInUse
		}
	}
	for _, g := range t.grants {
		if g.Role == name {
			return org.ErrRoleInUse
		}
	}
	delete(t.roles, name)
	t.version++
	return nil
}

// PutGrant implements [org.RoleStore].
func (s *orgStore) PutGrant(_ context.Context, g org.Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[g.Tenant]
	if t == nil || !t.hasRole(g.Role) {
		return org.ErrNotFound
	}
	if _, ok := t.members[g.User]; !ok {
		return org.ErrNotFound
	}
	for _, o := range t.grants {
		if o.ID == g.ID || (o.User == g.User && o.Role == g.Role && o.Resource == g.Resource) {
			return org.ErrDuplicate
		}
	}
	t.grants[g.ID] = g
	t.version++
	return nil
}

// DeleteGrant implements [org.RoleStore].
func (s *orgStore) DeleteGrant(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return org.ErrNotFound
	}
	if _, ok := t.grants[id]; !ok {
		return org.ErrNotFound
	}
	delete(t.grants, id)
	t.version++
	return nil
}

// Version implements [org.AccessStore].
func (s *orgStore) Version(_ context.Context, tenant string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return 0, org.ErrNotFound
	}
	return t.version, nil
}

// Snapshot implements [org.AccessStore].
func (s *orgStore) Snapshot(_ context.Context, tenant string) (org.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return org.Snapshot{}, org.ErrNotFound
	}
	snap := org.Snapshot{Version: t.version,
		Members: make([]org.Member, 0, len(t.members)),
		Roles:   make([]org.Role, 0, len(t.roles)),
		Grants:  make([]org.Grant, 0, len(t.grants))}
	for _, m := range t.members {
		snap.Members = append(snap.Members, m)
	}
	for _, r := range t.roles {
		snap.Roles = append(snap.Roles, org.Role{Name: r.Name, Permissions: slices.Clone(r.Permissions)})
	}
	for _, g := range t.grants {
		snap.Grants = append(snap.Grants, g)
	}
	slices.SortFunc(snap.Members, func(a, b org.Member) int { return strings.Compare(a.User, b.User) })
	slices.SortFunc(snap.Roles, func(a, b org.Role) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(snap.Grants, func(a, b org.Grant) int { return strings.Compare(a.ID, b.ID) })
	return snap, nil
}

// CreateInvitation implements [org.InvitationStore].
func (s *orgStore) CreateInvitation(_ context.Context, inv org.Invitation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tenants[inv.Tenant] == nil {
		return org.ErrNotFound
	}
	if _, ok := s.invitations[inv.Hash]; ok {
		return org.ErrDuplicate
	}
	s.invitations[inv.Hash] = inv
	return nil
}

// AcceptInvitation implements [org.InvitationStore].
func (s *orgStore) AcceptInvitation(_ context.Context, hash [32]byte, email, user string, now time.Time) (org.Invitation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invitations[hash]
	if !ok || !now.Before(inv.Expires) {
		return org.Invitation{}, org.ErrNotFound
	}
	t := s.tenants[inv.Tenant]
	if t == nil || !t.hasRole(inv.Role) {
		return org.Invitation{}, org.ErrNotFound
	}
	if email != inv.Email {
		return org.Invitation{}, org.ErrWrongAddress
	}
	if _, ok := t.members[user]; ok {
		return org.Invitation{}, org.ErrDuplicate
	}
	delete(s.invitations, hash)
	s.setMember(org.Member{Tenant: inv.Tenant, User: user, Role: inv.Role, Joined: now})
	return inv, nil
}

// RevokeInvitation implements [org.InvitationStore].
func (s *orgStore) RevokeInvitation(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, inv := range s.invitations {
		if inv.Tenant == tenant && inv.ID == id {
			delete(s.invitations, h)
			return nil
		}
	}
	return org.ErrNotFound
}

// Invitations implements [org.InvitationStore].
func (s *orgStore) Invitations(_ context.Context, tenant string) ([]org.Invitation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []org.Invitation
	for _, inv := range s.invitations {
		if inv.Tenant == tenant {
			out = append(out, inv)
		}
	}
	slices.SortFunc(out, func(a, b org.Invitation) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CreateToken implements [org.TokenStore].
func (s *orgStore) CreateToken(_ context.Context, tok org.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tok.Tenant]
	if t == nil {
		return org.ErrNotFound
	}
	if _, ok := t.members[tok.User]; !ok {
		return org.ErrNotFound
	}
	if _, ok := s.tokens[tok.Hash]; ok {
		return org.ErrDuplicate
	}
	tok.Permissions = slices.Clone(tok.Permissions)
	s.tokens[tok.Hash] = &tok
	return nil
}

// UseToken implements [org.TokenStore]. The returned record shares its
// Permissions slice with the store's, which is never modified.
func (s *orgStore) UseToken(_ context.Context, hash [32]byte, at time.Time, ip string, touchBefore time.Time) (org.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return org.Token{}, org.ErrNotFound
	}
	out := *t
	if t.LastUsed.Before(touchBefore) {
		t.LastUsed, t.LastIP = at, ip
	}
	return out, nil
}

// RevokeToken implements [org.TokenStore].
func (s *orgStore) RevokeToken(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, t := range s.tokens {
		if t.Tenant == tenant && t.ID == id {
			delete(s.tokens, h)
			return nil
		}
	}
	return org.ErrNotFound
}

// Tokens implements [org.TokenStore].
func (s *orgStore) Tokens(_ context.Context, tenant, user string) ([]org.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []org.Token
	for _, t := range s.tokens {
		if t.Tenant == tenant && (user == "" || t.User == user) {
			c := *t
			c.Permissions = slices.Clone(t.Permissions)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b org.Token) int { return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

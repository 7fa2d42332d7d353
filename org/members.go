package org

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// invitationTokenLen is the length of an invitation token: 32 bytes from
// crypto/rand (256 bits, ASVS 11.5.1) in unpadded base64url.
const invitationTokenLen = 43

// Initial passwords: 20 characters from an alphabet without look-alikes
// (no 0/O/o, 1/l/I, i/j), about 115 bits, read off a screen or a phone.
const (
	passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghkmnpqrstuvwxyz23456789"
	passwordLen      = 20
)

// Staff is a staff account made by [Manager.CreateStaff]. Password is the
// generated initial password, shown once to the administrator; the host
// stored it hashed, with MustChange, through [AccountCreator].
type Staff struct {
	User       string
	Password   string
	MustChange bool
}

// deny reports a refused change through the hook and returns err.
func (m *Manager) deny(ctx context.Context, e Event, err error) error {
	e.Type, e.Err = EventDenied, err
	m.emit(ctx, e)
	return err
}

// authorize reads tenant afresh and checks that by holds members.manage
// there tenant-wide.
func (m *Manager) authorize(ctx context.Context, tenant string, by Actor, e Event) (*tenantSnap, *access, error) {
	if tenant == "" || by.User == "" {
		return nil, nil, fmt.Errorf("%w: empty tenant or actor", ErrInvalid)
	}
	s, err := m.fresh(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	a := s.users[by.User]
	if a == nil || !a.wide.has(m.index[PermMembersManage]) {
		return nil, nil, m.deny(ctx, e, ErrForbidden)
	}
	return s, a, nil
}

// assignable checks that by (holding a) may give role to someone: the role
// exists, by holds every permission in it, and only an owner hands out
// ownership.
func (m *Manager) assignable(s *tenantSnap, a *access, role string) error {
	b, ok := s.roles[role]
	if !ok {
		return fmt.Errorf("%w: role %q", ErrNotFound, role)
	}
	if role == RoleOwner && a.role != RoleOwner {
		return ErrForbidden
	}
	if !a.wide.covers(b) {
		return ErrForbidden
	}
	return nil
}

// CreateTenant creates tenant with owner as its first member and only
// owner. It returns [ErrDuplicate] if the tenant exists. Who may create
// tenants is the host's decision.
func (m *Manager) CreateTenant(ctx context.Context, tenant string, owner Actor) error {
	if tenant == "" || owner.User == "" || len(tenant) > 255 {
		return fmt.Errorf("%w: tenant or owner", ErrInvalid)
	}
	if err := m.st.CreateTenant(ctx, Member{Tenant: tenant, User: owner.User, Role: RoleOwner, Joined: m.now()}); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, Event{Type: EventTenantCreated, Tenant: tenant, Actor: owner.User, IP: owner.IP, User: owner.User, Role: RoleOwner})
	return nil
}

func (m *Manager) wrap(err error) error {
	for _, s := range []error{ErrNotFound, ErrDuplicate, ErrLastOwner, ErrRoleInUse, ErrWrongAddress} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("org: store: %w", err)
}

// Invite creates an invitation to tenant for email with role, and returns
// the token to send (for example in a link) and the stored record. It
// needs [PermMembersManage], and by must hold every permission of role
// (only an owner invites owners). The invitation expires after
// [Config.InvitationTTL], can be used once, and only with the same
// normalised address ([NormalizeEmail]).
func (m *Manager) Invite(ctx context.Context, by Actor, tenant, email, role string) (string, Invitation, error) {
	email = NormalizeEmail(email)
	e := Event{Type: EventInvited, Tenant: tenant, Actor: by.User, IP: by.IP, Email: email, Role: role}
	if !validEmail(email) {
		return "", Invitation{}, fmt.Errorf("%w: address", ErrInvalid)
	}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return "", Invitation{}, err
	}
	if err := m.assignable(s, a, role); err != nil {
		if errors.Is(err, ErrForbidden) {
			return "", Invitation{}, m.deny(ctx, e, err)
		}
		return "", Invitation{}, err
	}
	var raw [32]byte
	if err := m.random(raw[:]); err != nil {
		return "", Invitation{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	id, err := m.newID()
	if err != nil {
		return "", Invitation{}, err
	}
	now := m.now()
	inv := Invitation{ID: id, Tenant: tenant, Email: email, Role: role, By: by.User,
		Hash: sha256.Sum256([]byte(token)), Created: now, Expires: now.Add(m.cfg.InvitationTTL)}
	if err := m.st.CreateInvitation(ctx, inv); err != nil {
		return "", Invitation{}, m.wrap(err)
	}
	e.ID = id
	m.emit(ctx, e)
	return token, inv, nil
}

// Accept uses an invitation token: by.User (the signed-in user accepting)
// becomes a member of the invitation's tenant with its role, atomically
// with the invitation's single use. email is by.User's verified address;
// it must equal the invited one once normalised, or [ErrWrongAddress] is
// returned and the invitation stays usable by the right person. A
// malformed, unknown, used, revoked or expired token is [ErrNotFound]; a
// user already in the tenant gets [ErrDuplicate]. An invitation whose
// inviter is no longer a member, or no longer holds [PermMembersManage]
// and every permission of its role, is void: [ErrNotFound], reported as
// an [EventDenied].
func (m *Manager) Accept(ctx context.Context, by Actor, token, email string) (Member, error) {
	if by.User == "" {
		return Member{}, fmt.Errorf("%w: empty user", ErrInvalid)
	}
	if len(token) != invitationTokenLen {
		return Member{}, ErrNotFound
	}
	now := m.now()
	inv, err := m.st.AcceptInvitation(ctx, sha256.Sum256([]byte(token)), NormalizeEmail(email), by.User, now)
	if err != nil {
		return Member{}, m.wrap(err)
	}
	if err := m.inviterMay(ctx, inv); err != nil {
		return Member{}, m.undoAccept(ctx, by, inv, err)
	}
	m.invalidate(inv.Tenant)
	m.emit(ctx, Event{Type: EventInvitationAccepted, Tenant: inv.Tenant, Actor: by.User, IP: by.IP, User: by.User, Role: inv.Role, Email: inv.Email, ID: inv.ID})
	return Member{Tenant: inv.Tenant, User: by.User, Role: inv.Role, Joined: now}, nil
}

// inviterMay checks, after the store made the acceptance, that the inviter
// could still issue inv: an invitation carries its inviter's authority, so
// once they left, lost [PermMembersManage] or lost a permission of the
// role, their pending invitations make nobody a member (otherwise someone
// about to be removed invites a second address of theirs and returns with
// the same role). The check follows the store's atomic acceptance because
// the store finds the invitation; undoAccept reverses it.
func (m *Manager) inviterMay(ctx context.Context, inv Invitation) error {
	s, err := m.fresh(ctx, inv.Tenant)
	if err != nil {
		return err
	}
	a := s.users[inv.By]
	if a == nil || !a.wide.has(m.index[PermMembersManage]) {
		return ErrForbidden
	}
	return m.assignable(s, a, inv.Role)
}

// undoAccept ends the membership an acceptance just created, because the
// inviter's authority check failed with cause (a refusal or a store
// error). It returns [ErrNotFound] for a refusal (the invitation is void,
// as a revoked one would be) and an error in every other case: the
// acceptance never succeeds.
func (m *Manager) undoAccept(ctx context.Context, by Actor, inv Invitation, cause error) error {
	rmErr := m.st.RemoveMember(context.WithoutCancel(ctx), inv.Tenant, by.User)
	m.invalidate(inv.Tenant)
	if rmErr != nil && !errors.Is(rmErr, ErrNotFound) {
		return fmt.Errorf("org: undo acceptance of an invitation its inviter can no longer issue: %w", rmErr)
	}
	if !errors.Is(cause, ErrForbidden) && !errors.Is(cause, ErrNotFound) {
		return cause
	}
	_ = m.deny(ctx, Event{Tenant: inv.Tenant, Actor: by.User, IP: by.IP, User: by.User, Role: inv.Role, Email: inv.Email, ID: inv.ID}, ErrForbidden)
	return ErrNotFound
}

// RevokeInvitation withdraws a pending invitation; it needs
// [PermMembersManage].
func (m *Manager) RevokeInvitation(ctx context.Context, by Actor, tenant, id string) error {
	e := Event{Type: EventInvitationRevoked, Tenant: tenant, Actor: by.User, IP: by.IP, ID: id}
	if _, _, err := m.authorize(ctx, tenant, by, e); err != nil {
		return err
	}
	if err := m.st.RevokeInvitation(ctx, tenant, id); err != nil {
		return m.wrap(err)
	}
	m.emit(ctx, e)
	return nil
}

// Invitations lists tenant's pending invitations; it needs
// [PermMembersManage].
func (m *Manager) Invitations(ctx context.Context, by Actor, tenant string) ([]Invitation, error) {
	if _, _, err := m.authorize(ctx, tenant, by, Event{Tenant: tenant, Actor: by.User, IP: by.IP}); err != nil {
		return nil, err
	}
	out, err := m.st.Invitations(ctx, tenant)
	if err != nil {
		return nil, m.wrap(err)
	}
	return out, nil
}

// CreateStaff creates a staff account for email through
// [Config.Accounts] with a generated initial password and the must-change
// flag, and makes it a member of tenant with role. It needs
// [PermMembersManage] and the same rights over role as [Manager.Invite].
// The returned password is shown once to the administrator; it is not
// stored by this package nor reported to the hook. If the account creator
// returns the id of someone already in the tenant, CreateStaff returns
// [ErrDuplicate] and changes nothing in the tenant.
func (m *Manager) CreateStaff(ctx context.Context, by Actor, tenant, email, role string) (Staff, error) {
	if m.cfg.Accounts == nil {
		return Staff{}, ErrNoAccounts
	}
	email = NormalizeEmail(email)
	e := Event{Type: EventStaffCreated, Tenant: tenant, Actor: by.User, IP: by.IP, Email: email, Role: role}
	if !validEmail(email) {
		return Staff{}, fmt.Errorf("%w: address", ErrInvalid)
	}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return Staff{}, err
	}
	if err := m.assignable(s, a, role); err != nil {
		if errors.Is(err, ErrForbidden) {
			return Staff{}, m.deny(ctx, e, err)
		}
		return Staff{}, err
	}
	pw, err := m.password()
	if err != nil {
		return Staff{}, err
	}
	user, err := m.cfg.Accounts.CreateAccount(ctx, email, pw, true)
	if err != nil {
		return Staff{}, fmt.Errorf("org: create account: %w", err)
	}
	if user == "" {
		return Staff{}, fmt.Errorf("%w: account creator returned no user id", ErrInvalid)
	}
	// A host that answers with an existing user's id (matching on the
	// address, say) must not turn this into a role change that skips
	// SetRole's guards.
	if s, err = m.fresh(ctx, tenant); err != nil {
		return Staff{}, err
	}
	if s.users[user] != nil {
		return Staff{}, fmt.Errorf("%w: %s is already a member", ErrDuplicate, email)
	}
	if err := m.st.PutMember(ctx, Member{Tenant: tenant, User: user, Role: role, Joined: m.now()}); err != nil {
		return Staff{}, m.wrap(err)
	}
	m.invalidate(tenant)
	e.User = user
	m.emit(ctx, e)
	return Staff{User: user, Password: pw, MustChange: true}, nil
}

func (m *Manager) password() (string, error) {
	out := make([]byte, 0, passwordLen)
	var buf [64]byte
	for len(out) < passwordLen {
		if err := m.random(buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			// Rejection sampling keeps every character equally likely.
			if int(c) < 256-256%len(passwordAlphabet) && len(out) < passwordLen {
				out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

// SetRole changes user's role in tenant. It needs [PermMembersManage];
// nobody changes their own role ([ErrOwnRole]); by must hold every
// permission of both the old and the new role, and only an owner makes or
// unmakes an owner ([ErrForbidden]). Demoting the last owner is
// [ErrLastOwner], checked atomically by the store.
func (m *Manager) SetRole(ctx context.Context, by Actor, tenant, user, role string) error {
	e := Event{Type: EventRoleChanged, Tenant: tenant, Actor: by.User, IP: by.IP, User: user, Role: role}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return err
	}
	if user == by.User {
		return m.deny(ctx, e, ErrOwnRole)
	}
	t := s.users[user]
	if t == nil {
		return fmt.Errorf("%w: member", ErrNotFound)
	}
	if err := m.assignable(s, a, role); err != nil {
		if errors.Is(err, ErrForbidden) {
			return m.deny(ctx, e, err)
		}
		return err
	}
	if (t.role == RoleOwner && a.role != RoleOwner) || !a.wide.covers(t.wide) {
		return m.deny(ctx, e, ErrForbidden)
	}
	if err := m.st.PutMember(ctx, Member{Tenant: tenant, User: user, Role: role, Joined: m.now()}); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, e)
	return nil
}

// RemoveMember ends user's membership of tenant, with their grants and the
// API tokens they created there. A member may always leave (by.User ==
// user); removing someone else needs [PermMembersManage] and every
// permission of their role, and only an owner removes an owner. The last
// owner can neither leave nor be removed ([ErrLastOwner]).
//
// The [EventMemberRemoved] event is how the membership's end reaches the
// rest of the application: the composition layer ends the user's sessions
// in that tenant when it sees it.
func (m *Manager) RemoveMember(ctx context.Context, by Actor, tenant, user string) error {
	e := Event{Type: EventMemberRemoved, Tenant: tenant, Actor: by.User, IP: by.IP, User: user}
	if by.User != user {
		s, a, err := m.authorize(ctx, tenant, by, e)
		if err != nil {
			return err
		}
		t := s.users[user]
		if t == nil {
			return fmt.Errorf("%w: member", ErrNotFound)
		}
		if (t.role == RoleOwner && a.role != RoleOwner) || !a.wide.covers(t.wide) {
			return m.deny(ctx, e, ErrForbidden)
		}
		e.Role = t.role
	} else if tenant == "" || user == "" {
		return fmt.Errorf("%w: empty tenant or user", ErrInvalid)
	}
	if err := m.st.RemoveMember(ctx, tenant, user); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, e)
	return nil
}

// Members returns tenant's members ordered by user id, from the cache.
func (m *Manager) Members(ctx context.Context, tenant string) ([]Member, error) {
	s, err := m.current(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(s.snap.Members)
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.User, b.User) })
	return out, nil
}

// Tenants returns user's memberships, one per tenant.
func (m *Manager) Tenants(ctx context.Context, user string) ([]Member, error) {
	out, err := m.st.Memberships(ctx, user)
	if err != nil {
		return nil, m.wrap(err)
	}
	return out, nil
}

// Roles returns tenant's roles: the four built-in ones, then its custom
// roles by name, each with its permissions in catalogue order.
func (m *Manager) Roles(ctx context.Context, tenant string) ([]Role, error) {
	s, err := m.current(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := []Role{
		{Name: RoleOwner, Permissions: m.names(m.all), BuiltIn: true},
		{Name: RoleAdministrator, Permissions: m.names(m.all), BuiltIn: true},
		{Name: RoleMember, Permissions: m.names(m.memb), BuiltIn: true},
		{Name: RoleReadOnly, Permissions: m.names(m.ro), BuiltIn: true},
	}
	custom := make([]Role, 0, len(s.snap.Roles))
	for _, r := range s.snap.Roles {
		custom = append(custom, Role{Name: r.Name, Permissions: m.names(s.roles[r.Name])})
	}
	slices.SortFunc(custom, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	return append(out, custom...), nil
}

// DefineRole creates or edits tenant's custom role r from the catalogue.
// It needs [PermMembersManage]; by must hold every permission of the role
// (before and after the edit), and may not edit the role they hold
// ([ErrOwnRole]). A permission outside the catalogue is an
// [*UnknownPermissionError]; a built-in name is [ErrInvalid].
func (m *Manager) DefineRole(ctx context.Context, by Actor, tenant string, r Role) error {
	if r.Name == "" || len(r.Name) > 64 || !utf8.ValidString(r.Name) || builtIn(r.Name) {
		return fmt.Errorf("%w: role name", ErrInvalid)
	}
	b, err := m.bits(r.Permissions)
	if err != nil {
		return err
	}
	e := Event{Type: EventRoleDefined, Tenant: tenant, Actor: by.User, IP: by.IP, Role: r.Name, Permissions: m.names(b)}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return err
	}
	if a.role == r.Name {
		return m.deny(ctx, e, ErrOwnRole)
	}
	if old, ok := s.roles[r.Name]; (ok && !a.wide.covers(old)) || !a.wide.covers(b) {
		return m.deny(ctx, e, ErrForbidden)
	}
	if err := m.st.PutRole(ctx, tenant, Role{Name: r.Name, Permissions: m.names(b)}); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, e)
	return nil
}

// DeleteRole deletes tenant's custom role name. It needs
// [PermMembersManage] and every permission of the role; a role still held
// by a member or grant is [ErrRoleInUse].
func (m *Manager) DeleteRole(ctx context.Context, by Actor, tenant, name string) error {
	if builtIn(name) {
		return fmt.Errorf("%w: built-in role", ErrInvalid)
	}
	e := Event{Type: EventRoleDeleted, Tenant: tenant, Actor: by.User, IP: by.IP, Role: name}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return err
	}
	old, ok := s.roles[name]
	if !ok {
		return fmt.Errorf("%w: role", ErrNotFound)
	}
	if a.role == name {
		return m.deny(ctx, e, ErrOwnRole)
	}
	if !a.wide.covers(old) {
		return m.deny(ctx, e, ErrForbidden)
	}
	if err := m.st.DeleteRole(ctx, tenant, name); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, e)
	return nil
}

// onResource is what a holds on the target of a grant on res.
func (a *access) onResource(res Resource) bitset {
	b := a.wide
	if a.res != nil {
		if res.ID != "" {
			b.or(a.res[resKey{typ: res.Type, id: res.ID}])
		} else {
			b.or(a.res[resKey{typ: res.Type, id: res.Group, group: true}])
		}
	}
	return b
}

// Grant gives user the permissions of role on res (one record: Type and
// ID; or one group: Type and Group). It needs [PermMembersManage]; by must
// hold every permission of role on res, cannot grant to themselves
// ([ErrOwnRole]), and the owner role is not granted per resource.
func (m *Manager) Grant(ctx context.Context, by Actor, tenant, user, role string, res Resource) (Grant, error) {
	if res.Type == "" || (res.ID == "") == (res.Group == "") || len(res.Type)+len(res.ID)+len(res.Group) > 512 {
		return Grant{}, fmt.Errorf("%w: a grant names a type and one of ID or Group", ErrInvalid)
	}
	if role == RoleOwner {
		return Grant{}, fmt.Errorf("%w: the owner role is tenant-wide", ErrInvalid)
	}
	e := Event{Type: EventGranted, Tenant: tenant, Actor: by.User, IP: by.IP, User: user, Role: role, Resource: res}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return Grant{}, err
	}
	if user == by.User {
		return Grant{}, m.deny(ctx, e, ErrOwnRole)
	}
	if s.users[user] == nil {
		return Grant{}, fmt.Errorf("%w: member", ErrNotFound)
	}
	rb, ok := s.roles[role]
	if !ok {
		return Grant{}, fmt.Errorf("%w: role %q", ErrNotFound, role)
	}
	if !a.onResource(res).covers(rb) {
		return Grant{}, m.deny(ctx, e, ErrForbidden)
	}
	id, err := m.newID()
	if err != nil {
		return Grant{}, err
	}
	g := Grant{ID: id, Tenant: tenant, User: user, Role: role, Resource: res, Created: m.now(), By: by.User}
	if err := m.st.PutGrant(ctx, g); err != nil {
		return Grant{}, m.wrap(err)
	}
	m.invalidate(tenant)
	e.ID = id
	m.emit(ctx, e)
	return g, nil
}

// Grants returns tenant's resource grants, oldest first, from the cache.
func (m *Manager) Grants(ctx context.Context, tenant string) ([]Grant, error) {
	s, err := m.current(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(s.snap.Grants)
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RevokeGrant deletes grant id. It needs [PermMembersManage] and every
// permission the grant gives; nobody revokes their own grants
// ([ErrOwnRole]).
func (m *Manager) RevokeGrant(ctx context.Context, by Actor, tenant, id string) error {
	e := Event{Type: EventGrantRevoked, Tenant: tenant, Actor: by.User, IP: by.IP, ID: id}
	s, a, err := m.authorize(ctx, tenant, by, e)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(s.snap.Grants, func(g Grant) bool { return g.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: grant", ErrNotFound)
	}
	g := s.snap.Grants[i]
	e.User, e.Role, e.Resource = g.User, g.Role, g.Resource
	if g.User == by.User {
		return m.deny(ctx, e, ErrOwnRole)
	}
	if !a.onResource(g.Resource).covers(s.roles[g.Role]) {
		return m.deny(ctx, e, ErrForbidden)
	}
	if err := m.st.DeleteGrant(ctx, tenant, id); err != nil {
		return m.wrap(err)
	}
	m.invalidate(tenant)
	m.emit(ctx, e)
	return nil
}

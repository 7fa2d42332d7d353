package org

import (
	"context"
	"time"
)

// Member is one user's membership of one tenant. A user may be a member of
// several tenants, with a different role in each.
type Member struct {
	Tenant string
	User   string
	// Role is a built-in role ([RoleOwner], [RoleAdministrator],
	// [RoleMember], [RoleReadOnly]) or a custom role of the tenant.
	Role   string
	Joined time.Time
}

// Role is a named set of permissions. The built-in roles are not stored:
// their permissions come from [Config]. Custom roles belong to one tenant.
type Role struct {
	Name        string
	Permissions []Permission
	// BuiltIn is true for the four built-in roles; stores ignore it.
	BuiltIn bool
}

// Grant gives a member the permissions of Role on one resource (Resource.ID
// set) or on a group of resources (Resource.Group set), in addition to what
// their tenant-wide role gives.
type Grant struct {
	ID       string // UUIDv7
	Tenant   string
	User     string
	Role     string
	Resource Resource
	Created  time.Time
	By       string // the user who made the grant
}

// Invitation is a pending offer of membership, sent to one address. Only the
// SHA-256 of its token is stored.
type Invitation struct {
	ID      string // UUIDv7
	Tenant  string
	Email   string // normalised, see [NormalizeEmail]
	Role    string
	By      string // the inviting user
	Hash    [32]byte
	Created time.Time
	Expires time.Time
}

// Token is an API token's record. Only the SHA-256 of the token is stored;
// Hint (the prefix and first four characters) lets a person recognise it in
// a list.
type Token struct {
	ID          string // UUIDv7
	Tenant      string
	User        string // the creator; the token acts as this user
	Name        string
	Hint        string
	Hash        [32]byte
	Permissions []Permission // the scope, a subset of the creator's permissions
	Created     time.Time
	Expires     time.Time
	LastUsed    time.Time // zero until first use
	LastIP      string
}

// Snapshot is everything a tenant's permission checks need, read at one
// Version.
type Snapshot struct {
	// Version is the tenant's version counter (see [AccessStore]) at or
	// before the moment the rest was read.
	Version int64
	Members []Member
	Roles   []Role // custom roles only
	Grants  []Grant
}

// Store is every store interface the [Manager] uses. memstore and sqlstore
// implement it; orgtest checks an implementation.
//
// Every method that changes a tenant's members, roles or grants increments
// the tenant's version in the same atomic step, so that [Manager]
// instances sharing the store notice the change (see [AccessStore]).
// Stores report a missing, expired or revoked record with [ErrNotFound];
// other errors are system failures.
type Store interface {
	MemberStore
	RoleStore
	AccessStore
	InvitationStore
	TokenStore
}

// MemberStore keeps tenants and their members.
type MemberStore interface {
	// CreateTenant records owner.Tenant with owner as its first member
	// (owner.Role is [RoleOwner]). It returns [ErrDuplicate] if the tenant
	// exists.
	CreateTenant(ctx context.Context, owner Member) error
	// PutMember adds m or changes the role of an existing member (Joined is
	// kept). It returns [ErrNotFound] if the tenant or a custom m.Role does
	// not exist, and [ErrLastOwner] if it would demote the tenant's only
	// owner: the check and the change are one atomic step, so two
	// concurrent demotions of the last two owners leave one.
	PutMember(ctx context.Context, m Member) error
	// RemoveMember ends user's membership of tenant, deletes their grants
	// and revokes the API tokens they created there, in one atomic step.
	// It returns [ErrNotFound] if they are not a member and
	// [ErrLastOwner] if they are the only owner.
	RemoveMember(ctx context.Context, tenant, user string) error
	// Memberships returns user's memberships of every tenant, ordered by
	// tenant.
	Memberships(ctx context.Context, user string) ([]Member, error)
}

// RoleStore keeps custom roles and resource grants.
type RoleStore interface {
	// PutRole creates or replaces the custom role r.Name of tenant. It
	// returns [ErrNotFound] if the tenant does not exist. The caller has
	// checked that r.Name is not a built-in name.
	PutRole(ctx context.Context, tenant string, r Role) error
	// DeleteRole deletes a custom role. It returns [ErrNotFound] if there
	// is none and [ErrRoleInUse] if a member or grant still uses it.
	DeleteRole(ctx context.Context, tenant, name string) error
	// PutGrant records g. It returns [ErrNotFound] if g.User is not a
	// member of g.Tenant or a custom g.Role does not exist, and
	// [ErrDuplicate] if the same user already has the same role on the
	// same resource.
	PutGrant(ctx context.Context, g Grant) error
	// DeleteGrant deletes grant id of tenant, or returns [ErrNotFound].
	DeleteGrant(ctx context.Context, tenant, id string) error
}

// AccessStore is what permission checks read.
//
// The version is a per-tenant counter that every change to the tenant's
// members, roles or grants increments atomically with the change. A
// [Manager] caches a tenant's [Snapshot] and reads the version at most once
// per [Config.CacheTTL] to decide whether the snapshot is still current,
// which is what bounds how long another instance's change can go unseen.
type AccessStore interface {
	// Version returns tenant's version, or [ErrNotFound].
	Version(ctx context.Context, tenant string) (int64, error)
	// Snapshot returns tenant's members, custom roles and grants, with a
	// Version read no later than they were, or [ErrNotFound].
	Snapshot(ctx context.Context, tenant string) (Snapshot, error)
}

// InvitationStore keeps pending invitations.
type InvitationStore interface {
	// CreateInvitation records inv. It returns [ErrNotFound] if the tenant
	// does not exist.
	CreateInvitation(ctx context.Context, inv Invitation) error
	// AcceptInvitation, in one atomic step, finds the invitation whose
	// token hashes to hash, checks that it has not expired at now and that
	// email equals its address, deletes it (single use) and makes user a
	// member of its tenant with its role. It returns [ErrNotFound] for a
	// missing, used, revoked or expired invitation (and when its custom
	// role no longer exists), [ErrWrongAddress] (the invitation is kept)
	// when email differs, and [ErrDuplicate] (the invitation is kept) when
	// user is already a member.
	AcceptInvitation(ctx context.Context, hash [32]byte, email, user string, now time.Time) (Invitation, error)
	// RevokeInvitation deletes invitation id of tenant, or returns
	// [ErrNotFound].
	RevokeInvitation(ctx context.Context, tenant, id string) error
	// Invitations returns tenant's invitations that have not been accepted
	// or revoked (expired ones included), oldest first.
	Invitations(ctx context.Context, tenant string) ([]Invitation, error)
}

// TokenStore keeps API tokens.
type TokenStore interface {
	// CreateToken records t. It returns [ErrNotFound] if t.User is not a
	// member of t.Tenant at that moment (checked atomically with the
	// insert, so a token cannot outlive a concurrent removal).
	CreateToken(ctx context.Context, t Token) error
	// UseToken returns the token whose hash is hash, or [ErrNotFound] if
	// there is none or it was revoked; expiry is the caller's to judge.
	// When its recorded last use is before touchBefore it records at and
	// ip as the last use in the same step (the returned record shows the
	// previous values), which bounds the write rate per token.
	UseToken(ctx context.Context, hash [32]byte, at time.Time, ip string, touchBefore time.Time) (Token, error)
	// RevokeToken deletes token id of tenant, or returns [ErrNotFound].
	RevokeToken(ctx context.Context, tenant, id string) error
	// Tokens returns tenant's tokens, oldest first; user "" means every
	// member's, otherwise only those user created.
	Tokens(ctx context.Context, tenant, user string) ([]Token, error)
}

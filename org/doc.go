// Package org gives a multi-tenant application its organisations: tenants
// and their members, invitations, staff accounts made by administrators,
// roles and permissions the customer configures, permission checks with
// net/http middleware, and API tokens for automation.
//
// # Quick start
//
//	m, err := org.New(memstore.NewOrgStore(), org.Config{ // or sqlstore's Store.Org()
//		Permissions: []org.Permission{"clients.read", "clients.write", "export.run", "audit.read"},
//	})
//	err = m.CreateTenant(ctx, "acme", org.Actor{User: ownerID})
//
//	// after the session middleware, once the tenant is known:
//	r = r.WithContext(org.WithPrincipal(r.Context(), tenantID, userID))
//	mux.Handle("POST /clients/", m.TokenMiddleware(m.Require("clients.write")(h)))
//
//	// in a handler, for one record, and for a list:
//	ok, err := m.Allowed(ctx, "clients.write", org.Resource{Type: "client", ID: id, Group: groupID})
//	v, err := m.Visible(ctx, tenantID, userID, "clients.read", "client") // v.All, v.IDs, v.Groups
//
// # Tenants, members and roles
//
// A user (a plain string id from the host's users table) may be a member
// of several tenants, with one tenant-wide role in each ([Member]). Every
// tenant has four built-in roles: [RoleOwner] and [RoleAdministrator]
// hold every permission of the catalogue, [RoleMember] holds
// [Config.MemberPermissions] (default: all but [PermMembersManage]) and
// [RoleReadOnly] holds [Config.ReadOnlyPermissions] (default: those
// ending in ".read"). Holders of [PermMembersManage] may define custom
// roles from the catalogue ([Manager.DefineRole]) and grant a role on one
// record or one group of records in addition to the tenant-wide role
// ([Manager.Grant]). A permission outside the catalogue is an
// [*UnknownPermissionError].
//
// Members join by invitation ([Manager.Invite], [Manager.Accept]) or are
// created directly by an administrator ([Manager.CreateStaff]), in which
// case the host's [AccountCreator] stores a generated initial password
// (20 characters without look-alikes, about 115 bits) with a must-change
// flag.
//
// # Invitations
//
// An invitation token is 256 bits from crypto/rand (ASVS 11.5.1); only its
// SHA-256 is stored. It is single-use, bound to the invited address
// (compared after [NormalizeEmail]; another address gets
// [ErrWrongAddress] and leaves the invitation usable), and expires after
// [Config.InvitationTTL], 7 days by default: long enough for a week-end
// and a holiday, short enough that a forgotten mail stops being a way in.
// Accepting creates the membership in the same atomic step that uses the
// invitation. An invitation carries its inviter's authority: once the
// inviter has left or may no longer hand out its role, accepting it is
// refused (and the membership just made is undone).
//
// # Guards against escalation
//
//   - Nobody hands out a permission they do not hold: inviting, creating
//     staff, changing a role, defining a role and granting all require
//     [PermMembersManage] and every permission of the role concerned (for
//     a grant, on that resource); changing or removing a member also
//     requires every permission of the member's current role.
//   - Only an owner makes, unmakes or removes an owner.
//   - Nobody changes their own role or grants, or edits the role they hold
//     ([ErrOwnRole]).
//   - The last owner can neither leave nor be demoted ([ErrLastOwner]).
//     The store checks this atomically with the change, so two concurrent
//     demotions of the last two owners leave one (tested on PostgreSQL).
//   - A refused change is reported as [EventDenied].
//
// These checks read the tenant from the store, not the cache. A change
// and the checks that allowed it are separate steps; only the last-owner
// rule is enforced inside the store's transaction.
//
// # Checks and the cache
//
// [Manager.Can] (and [Manager.Allowed], its form reading the [Principal]
// from the context) answers from a per-tenant snapshot in which each
// member's permissions are precomputed as a bitset of catalogue indices:
// a cached check costs two map lookups and a bit test, with no
// allocation. Each instance reads a tenant's version counter at most once
// per [Config.CacheTTL] (default and maximum 1 second) and reloads the
// snapshot when it moved. So:
//
//   - a change made through a Manager applies at that Manager's next check;
//   - a change made through another instance sharing the store applies
//     at every instance within CacheTTL of its commit;
//   - a store error while refreshing denies (and is returned); a stale
//     snapshot is never used past the bound.
//
// The snapshot holds every member of a tenant, which suits staff-sized
// tenants (thousands of members), not millions.
//
// # Middleware
//
// [Manager.Require] fails closed: no principal or a denied permission is
// 403, a store error is 500. [Manager.TokenMiddleware] reads
// "Authorization: Bearer"; see [Manager.TokenMiddleware] for its answers.
//
// # API tokens
//
// A token is "bwk_" ([Config.TokenPrefix]), 43 base62 characters from
// crypto/rand (256 bits) and a 6-character base62 CRC-32 checksum, the
// format GitHub uses so that secret scanners can recognise tokens and
// typos are refused without a store access ([ParseToken]). Only its SHA-256
// is stored. Its scope is a subset of its creator's permissions, and at
// every use it may do only what is in its scope and what its creator may
// still do; it expires ([Config.TokenTTL], default 90 days, at most
// [Config.MaxTokenTTL]); its last use time and address are recorded at
// most once per [Config.TokenTouchInterval]; it can be listed and revoked,
// and it ends when its creator leaves the tenant.
//
// # Events
//
// Every invitation, acceptance, staff account, role change, role
// definition, grant, revocation, removal and token event goes to
// [Config.Hook] as an [Event] with its type ("org.invited", ...), the actor
// and, when the caller passed one in [Actor], the IP address. Events never
// carry a token, password or hash. [EventMemberRemoved] is how the end of
// a membership reaches the rest of the application: the composition layer
// ends the user's sessions in that tenant when it sees it.
//
// # Stores
//
// The package declares the store it needs in five interfaces of at most
// four methods ([MemberStore], [RoleStore], [AccessStore],
// [InvitationStore], [TokenStore]), with their contracts written on them.
// store/memstore and store/sqlstore implement them; package orgtest checks
// any implementation.
package org

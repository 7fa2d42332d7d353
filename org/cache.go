package org

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// bitset holds one bit per catalogue permission.
type bitset [maxPermissions / 64]uint64

func (b *bitset) set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b *bitset) clear(i int)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b *bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b *bitset) or(o bitset)    { b[0] |= o[0]; b[1] |= o[1]; b[2] |= o[2]; b[3] |= o[3] }
func (b bitset) covers(o bitset) bool {
	return o[0]&^b[0] == 0 && o[1]&^b[1] == 0 && o[2]&^b[2] == 0 && o[3]&^b[3] == 0
}

// resKey is a grant's target in the cache: a record or a group.
type resKey struct {
	typ, id string
	group   bool
}

// access is one member's precomputed permissions in one tenant.
type access struct {
	role string
	wide bitset
	res  map[resKey]bitset // nil when the member has no resource grants
}

// tenantSnap is an immutable view of one tenant at one version.
type tenantSnap struct {
	version int64
	users   map[string]*access
	roles   map[string]bitset // every role, built-in and custom
	snap    Snapshot
}

// tenantCache is the cached state of one tenant.
type tenantCache struct {
	snap    atomic.Pointer[tenantSnap]
	checked atomic.Int64 // clock reading (ns) taken before the last version read
	mu      sync.Mutex   // one refresh at a time
}

// maxCachedTenants bounds the cache; past it the cache is emptied and
// refills from the store, so memory stays bounded for any tenant count.
const maxCachedTenants = 100_000

func (m *Manager) tenantCache(tenant string) *tenantCache {
	// sync.Map: readers share no lock word, so checks on many cores do
	// not contend.
	if v, ok := m.tenants.Load(tenant); ok {
		return v.(*tenantCache)
	}
	if m.cached.Add(1) > maxCachedTenants {
		m.tenants.Clear()
		m.cached.Store(1)
	}
	v, _ := m.tenants.LoadOrStore(tenant, &tenantCache{})
	return v.(*tenantCache)
}

// invalidate makes the next check of tenant read the store.
func (m *Manager) invalidate(tenant string) {
	if v, ok := m.tenants.Load(tenant); ok {
		tc := v.(*tenantCache)
		// Under the refresh lock, so that a refresh that read the store
		// before the change cannot install its older snapshot afterwards.
		tc.mu.Lock()
		tc.snap.Store(nil)
		tc.mu.Unlock()
	}
}

// current returns tenant's snapshot, no older than the cache bound: it is
// used as is within CacheTTL of the last version read, after which the
// version is read again and the snapshot reloaded if it moved. A store
// error is returned (and the caller denies).
func (m *Manager) current(ctx context.Context, tenant string) (*tenantSnap, error) {
	tc := m.tenantCache(tenant)
	s := tc.snap.Load()
	if s != nil && m.young(m.nanos()-tc.checked.Load()) {
		return s, nil
	}
	return m.refresh(ctx, tc, tenant, false)
}

// young reports whether a snapshot whose version was read elapsed
// nanoseconds ago may be used as is. A negative elapsed time (an injected
// wall clock stepped back) counts as expired, so a clock step never
// stretches the CacheTTL bound.
func (m *Manager) young(elapsed int64) bool { return elapsed >= 0 && elapsed < m.ttl }

// fresh returns tenant's snapshot read from the store now, for the
// escalation checks of a change.
func (m *Manager) fresh(ctx context.Context, tenant string) (*tenantSnap, error) {
	return m.refresh(ctx, m.tenantCache(tenant), tenant, true)
}

func (m *Manager) refresh(ctx context.Context, tc *tenantCache, tenant string, force bool) (*tenantSnap, error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	// The clock is read before the store: the snapshot is then at least as
	// new as this reading, which is what the bound is measured from.
	start := m.nanos()
	s := tc.snap.Load()
	if !force && s != nil && m.young(start-tc.checked.Load()) {
		return s, nil // another caller refreshed meanwhile
	}
	if s != nil && !force {
		v, err := m.st.Version(ctx, tenant)
		if err != nil {
			return nil, m.storeErr(err)
		}
		if v == s.version {
			tc.checked.Store(start)
			return s, nil
		}
	}
	snap, err := m.st.Snapshot(ctx, tenant)
	if err != nil {
		return nil, m.storeErr(err)
	}
	s = m.build(snap)
	tc.snap.Store(s)
	tc.checked.Store(start)
	return s, nil
}

func (m *Manager) storeErr(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("org: store: %w", err)
}

func (m *Manager) build(snap Snapshot) *tenantSnap {
	s := &tenantSnap{version: snap.Version, users: make(map[string]*access, len(snap.Members)), roles: map[string]bitset{
		RoleOwner: m.all, RoleAdministrator: m.all, RoleMember: m.memb, RoleReadOnly: m.ro,
	}, snap: snap}
	for _, r := range snap.Roles {
		var b bitset
		for _, p := range r.Permissions {
			// A permission dropped from the catalogue since is ignored.
			if i, ok := m.index[p]; ok {
				b.set(i)
			}
		}
		s.roles[r.Name] = b
	}
	for _, mem := range snap.Members {
		s.users[mem.User] = &access{role: mem.Role, wide: s.roles[mem.Role]}
	}
	for _, g := range snap.Grants {
		a := s.users[g.User]
		if a == nil {
			continue
		}
		if a.res == nil {
			a.res = map[resKey]bitset{}
		}
		k := resKey{typ: g.Resource.Type, id: g.Resource.ID}
		if g.Resource.ID == "" {
			k = resKey{typ: g.Resource.Type, id: g.Resource.Group, group: true}
		}
		b := a.res[k]
		b.or(s.roles[g.Role])
		a.res[k] = b
	}
	return s
}

// allows reports whether a (nil for a non-member) holds permission bit i on
// res.
func (a *access) allows(i int, res Resource) bool {
	if a == nil {
		return false
	}
	if a.wide.has(i) {
		return true
	}
	if a.res == nil || res.Type == "" {
		return false
	}
	if res.ID != "" {
		if b, ok := a.res[resKey{typ: res.Type, id: res.ID}]; ok && b.has(i) {
			return true
		}
	}
	if res.Group != "" {
		if b, ok := a.res[resKey{typ: res.Type, id: res.Group, group: true}]; ok && b.has(i) {
			return true
		}
	}
	return false
}

// Can reports whether user may use permission p in tenant, on res (the
// zero Resource asks about the whole tenant). A tenant-wide role answers
// for every resource; a grant answers for its record or group.
//
// It answers from a cache: no allocation, and no store access while the
// tenant's snapshot is younger than [Config.CacheTTL]. A change made
// through this Manager applies at the next check; one made through
// another instance applies within CacheTTL. A store error denies and is
// returned; an unknown tenant or non-member is a plain false; a permission
// outside the catalogue is an [*UnknownPermissionError].
func (m *Manager) Can(ctx context.Context, tenant, user string, p Permission, res Resource) (bool, error) {
	i, ok := m.index[p]
	if !ok {
		return false, &UnknownPermissionError{Permission: p}
	}
	s, err := m.current(ctx, tenant)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return s.users[user].allows(i, res), nil
}

// Allowed is [Manager.Can] for the [Principal] in ctx (see
// [WithPrincipal] and [Manager.TokenMiddleware]). Without a principal it
// denies. For an API token the permission must also be in the token's
// scope, so a token never exceeds its creator's current permissions nor
// its own.
func (m *Manager) Allowed(ctx context.Context, p Permission, res Resource) (bool, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return false, nil
	}
	i, known := m.index[p]
	if !known {
		return false, &UnknownPermissionError{Permission: p}
	}
	if pr.TokenID != "" && !pr.scope.has(i) {
		return false, nil
	}
	return m.Can(ctx, pr.Tenant, pr.User, p, res)
}

// Visible is what a member may see of one resource type for one
// permission, shaped for a SQL filter:
//
//	WHERE $1 OR id = ANY($2) OR group_id = ANY($3)   -- All, IDs, Groups
type Visible struct {
	All    bool     // a tenant-wide role gives the permission: no filter
	IDs    []string // records granted one by one, sorted
	Groups []string // groups granted, sorted
}

// Visible returns what user may see of resources of type typ with
// permission p in tenant (the listing call). It reads the same cache as
// [Manager.Can]; a non-member gets the zero Visible (nothing). When ctx
// carries an API token's [Principal] (see [Manager.TokenMiddleware]), a
// permission outside the token's scope shows nothing, as
// [Manager.Allowed] would refuse it: the host cannot apply the scope
// itself.
func (m *Manager) Visible(ctx context.Context, tenant, user string, p Permission, typ string) (Visible, error) {
	i, ok := m.index[p]
	if !ok {
		return Visible{}, &UnknownPermissionError{Permission: p}
	}
	if pr, ok := PrincipalFrom(ctx); ok && pr.TokenID != "" && !pr.scope.has(i) {
		return Visible{}, nil
	}
	s, err := m.current(ctx, tenant)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Visible{}, nil
		}
		return Visible{}, err
	}
	a := s.users[user]
	if a == nil {
		return Visible{}, nil
	}
	if a.wide.has(i) {
		return Visible{All: true}, nil
	}
	var v Visible
	for k, b := range a.res {
		if k.typ != typ || !b.has(i) {
			continue
		}
		if k.group {
			v.Groups = append(v.Groups, k.id)
		} else {
			v.IDs = append(v.IDs, k.id)
		}
	}
	slices.Sort(v.IDs)
	slices.Sort(v.Groups)
	return v, nil
}

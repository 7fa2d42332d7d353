package bench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// The permission-check data set of issue 16: 1,000 tenants × 50 members ×
// 10 roles (the 4 built-in ones and 6 custom ones per tenant) over a
// catalogue of 21 permissions, loaded identically into Bulwark's org
// package and casbin v2's RBAC-with-domains model.
const (
	orgTenants = 1000
	orgMembers = 50
	orgCustom  = 6
	orgQueries = 256
	// orgCachedQueries is how many of them CasbinCached cycles through.
	orgCachedQueries = 16
	casbinModel      = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`
)

type orgQuery struct {
	tenant, user string
	perm         org.Permission
	obj, act     string
	want         bool
}

type orgData struct {
	m       *org.Manager
	plain   *casbin.Enforcer
	cached  *casbin.CachedEnforcer
	queries []orgQuery
}

var (
	orgOnce sync.Once
	orgSet  *orgData
	orgErr  error
)

func orgCatalogue() []org.Permission {
	var ps []org.Permission
	for _, obj := range []string{"clients", "invoices", "projects", "files", "reports", "notes", "events", "groups", "export", "audit"} {
		ps = append(ps, org.Permission(obj+".read"), org.Permission(obj+".write"))
	}
	return ps
}

// loadOrgData builds the data set once per test binary.
func loadOrgData(tb testing.TB) *orgData {
	tb.Helper()
	orgOnce.Do(func() { orgSet, orgErr = buildOrgData() })
	if orgErr != nil {
		tb.Fatal(orgErr)
	}
	return orgSet
}

func buildOrgData() (*orgData, error) {
	ctx := context.Background()
	cat := orgCatalogue()
	st := memstore.NewOrgStore()
	m, err := org.New(st, org.Config{Permissions: cat})
	if err != nil {
		return nil, err
	}
	mdl, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	plain, err := casbin.NewEnforcer(mdl)
	if err != nil {
		return nil, err
	}
	all := append([]org.Permission{org.PermMembersManage}, cat...)
	builtIn := map[string][]org.Permission{org.RoleOwner: all, org.RoleAdministrator: all}
	for _, p := range cat {
		builtIn[org.RoleMember] = append(builtIn[org.RoleMember], p)
		if strings.HasSuffix(string(p), ".read") {
			builtIn[org.RoleReadOnly] = append(builtIn[org.RoleReadOnly], p)
		}
	}
	roleNames := []string{org.RoleOwner, org.RoleAdministrator, org.RoleMember, org.RoleReadOnly}
	for k := range orgCustom {
		roleNames = append(roleNames, fmt.Sprintf("custom%d", k))
	}
	var policies, links [][]string
	for i := range orgTenants {
		tenant := fmt.Sprintf("tenant%04d", i)
		rolePerms := map[string][]org.Permission{}
		for name, ps := range builtIn {
			rolePerms[name] = ps
		}
		for k := range orgCustom {
			var ps []org.Permission
			for j := range 6 {
				ps = append(ps, cat[(i+k*3+j)%len(cat)])
			}
			name := fmt.Sprintf("custom%d", k)
			rolePerms[name] = ps
		}
		for j := range orgMembers {
			user := fmt.Sprintf("user%06d", i*orgMembers+j)
			role := roleNames[(i+j)%len(roleNames)]
			if j == 0 {
				role = org.RoleOwner
				if err := st.CreateTenant(ctx, org.Member{Tenant: tenant, User: user, Role: role}); err != nil {
					return nil, err
				}
				for k := range orgCustom {
					name := fmt.Sprintf("custom%d", k)
					if err := st.PutRole(ctx, tenant, org.Role{Name: name, Permissions: rolePerms[name]}); err != nil {
						return nil, err
					}
				}
			} else if err := st.PutMember(ctx, org.Member{Tenant: tenant, User: user, Role: role}); err != nil {
				return nil, err
			}
			links = append(links, []string{user, "role:" + role, tenant})
		}
		for _, name := range roleNames {
			for _, p := range rolePerms[name] {
				obj, act, _ := strings.Cut(string(p), ".")
				policies = append(policies, []string{"role:" + name, tenant, obj, act})
			}
		}
	}
	if _, err := plain.AddPolicies(policies); err != nil {
		return nil, err
	}
	if _, err := plain.AddGroupingPolicies(links); err != nil {
		return nil, err
	}
	// Each enforcer gets its own model: they would share its role links.
	mdl2, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	cached, err := casbin.NewCachedEnforcer(mdl2)
	if err != nil {
		return nil, err
	}
	if _, err := cached.AddPolicies(policies); err != nil {
		return nil, err
	}
	if _, err := cached.AddGroupingPolicies(links); err != nil {
		return nil, err
	}

	d := &orgData{m: m, plain: plain, cached: cached}
	rng := rand.New(rand.NewPCG(1, 2))
	for range orgQueries {
		i, j := rng.IntN(orgTenants), rng.IntN(orgMembers)
		p := all[rng.IntN(len(all))]
		obj, act, _ := strings.Cut(string(p), ".")
		q := orgQuery{tenant: fmt.Sprintf("tenant%04d", i), user: fmt.Sprintf("user%06d", i*orgMembers+j), perm: p, obj: obj, act: act}
		if q.want, err = m.Can(ctx, q.tenant, q.user, q.perm, org.Resource{}); err != nil {
			return nil, err
		}
		// Both engines must agree on every answer: same model, same data.
		// (CachedEnforcer is checked by its benchmark, whose first pass
		// also fills its cache.)
		ok, err := plain.Enforce(q.user, q.tenant, q.obj, q.act)
		if err != nil {
			return nil, err
		}
		if ok != q.want {
			return nil, fmt.Errorf("casbin says %v, org says %v for %+v", ok, q.want, q)
		}
		d.queries = append(d.queries, q)
	}
	// Warm Bulwark's cache for every tenant, as a running app would be.
	for i := range orgTenants {
		if _, err := m.Can(ctx, fmt.Sprintf("tenant%04d", i), "user", "clients.read", org.Resource{}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// BenchmarkOrgCheck compares one permission check on the data set above,
// cycling through the same 256 random (tenant, user, permission)
// queries, about half of them allowed:
//
//   - Bulwark: org.Manager.Can from its cache (target <= 100 ns, 0 allocs);
//   - Casbin: casbin v2's Enforcer.Enforce on the RBAC-with-domains model;
//   - CasbinCached: casbin's CachedEnforcer, which memoises each answer,
//     measured on cache hits only (16 of the queries, answered once before
//     the loop): the most favourable case for Casbin.
//
// Casbin's Enforce scans every policy line of every tenant (108,000 here),
// so it is measured on fewer iterations; the 256 queries are checked to get
// the same answers from both engines when the data set is built.
//
// Quote ratios from one run; the machine is shared.
func BenchmarkOrgCheck(b *testing.B) {
	d := loadOrgData(b)
	ctx := context.Background()
	b.Run("Bulwark", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := &d.queries[i%orgQueries]
			if ok, _ := d.m.Can(ctx, q.tenant, q.user, q.perm, org.Resource{}); ok != q.want {
				b.Fatal("wrong answer")
			}
			i++
		}
	})
	b.Run("Casbin", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := &d.queries[i%orgQueries]
			if ok, _ := d.plain.Enforce(q.user, q.tenant, q.obj, q.act); ok != q.want {
				b.Fatal("wrong answer")
			}
			i++
		}
	})
	b.Run("CasbinCached", func(b *testing.B) {
		// A cache miss costs what Casbin costs, so the cache is filled
		// first, for the first orgCachedQueries queries only (filling it for
		// all would take minutes); the loop then measures hits.
		for _, q := range d.queries[:orgCachedQueries] {
			if ok, _ := d.cached.Enforce(q.user, q.tenant, q.obj, q.act); ok != q.want {
				b.Fatal("wrong answer")
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			q := &d.queries[i%orgCachedQueries]
			if ok, _ := d.cached.Enforce(q.user, q.tenant, q.obj, q.act); ok != q.want {
				b.Fatal("wrong answer")
			}
			i++
		}
	})
}

// BenchmarkOrgVisible is the listing call for a member with 1,000 record
// grants, and for one whose tenant-wide role answers (All).
func BenchmarkOrgVisible(b *testing.B) {
	ctx := context.Background()
	st := memstore.NewOrgStore()
	m, err := org.New(st, org.Config{Permissions: orgCatalogue()})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateTenant(ctx, org.Member{Tenant: "t", User: "owner", Role: org.RoleOwner}); err != nil {
		b.Fatal(err)
	}
	if err := st.PutMember(ctx, org.Member{Tenant: "t", User: "ro", Role: org.RoleReadOnly}); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := st.PutGrant(ctx, org.Grant{ID: fmt.Sprintf("g%d", i), Tenant: "t", User: "ro", Role: org.RoleMember,
			Resource: org.Resource{Type: "client", ID: fmt.Sprintf("%d", i*100)}}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct{ name, user string }{{"Grants1000", "ro"}, {"TenantWide", "owner"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Visible(ctx, "t", c.user, "clients.write", "client"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOrgTokenValidate compares validating an API token
// (org.Manager.ValidateToken: checksum, SHA-256, one memstore lookup;
// target <= 1 µs) with validating a session token
// (session.Manager.Validate), both on memstore.
func BenchmarkOrgTokenValidate(b *testing.B) {
	ctx := context.Background()
	m, err := org.New(memstore.NewOrgStore(), org.Config{Permissions: orgCatalogue()})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.CreateTenant(ctx, "t", org.Actor{User: "u"}); err != nil {
		b.Fatal(err)
	}
	tok, _, err := m.CreateToken(ctx, org.Actor{User: "u"}, "t", org.TokenSpec{Permissions: []org.Permission{"export.read"}})
	if err != nil {
		b.Fatal(err)
	}
	sm := newOrgBenchSessions()
	iss, err := sm.Create(ctx, "u", session.Login{Factors: []string{"password"}, IP: "192.0.2.1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("APIToken", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.ValidateToken(ctx, tok, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sm.Validate(ctx, iss.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newOrgBenchSessions is a session Manager on memstore with a fixed clock.
func newOrgBenchSessions() *session.Manager {
	now := time.Now()
	m, err := session.New(memstore.NewSessionStore(), session.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	return m
}

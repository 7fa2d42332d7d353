package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/org/orgtest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestOrgStoreConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			orgtest.Run(t, func(t *testing.T) org.Store {
				st, err := sqlstore.Open(context.Background(), be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Org()
			})
		})
	}
}

type orgClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *orgClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *orgClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestOrgRevokeBoundTwoInstances runs two Managers, each on its own pool
// over one PostgreSQL schema, changing roles concurrently while both
// answer checks. Once the clock has moved CacheTTL past the last change,
// every check on either instance (and on one that never cached anything)
// must answer from the store's final state: no revoked permission
// outlives the documented bound.
func TestOrgRevokeBoundTwoInstances(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	clock := &orgClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := org.Config{Permissions: []org.Permission{"clients.read", "clients.write"}, Now: clock.Now}
	manager := func() *org.Manager {
		st := sqlstore.New(testenv.OpenPostgres(t, dsn), sqlstore.Postgres)
		require.NoError(t, st.Migrate(ctx))
		m, err := org.New(st.Org(), cfg)
		require.NoError(t, err)
		return m
	}
	a, b := manager(), manager()
	owner := org.Actor{User: "olivia"}
	require.NoError(t, a.CreateTenant(ctx, "acme", owner))
	users := []string{"mia", "rita"}
	for _, u := range users {
		tok, _, err := a.Invite(ctx, owner, "acme", u+"@example.com", org.RoleMember)
		require.NoError(t, err)
		_, err = a.Accept(ctx, org.Actor{User: u}, tok, u+"@example.com")
		require.NoError(t, err)
	}
	const write = org.Permission("clients.write")
	for round := range 15 {
		// Both instances check in a loop while each changes one user's
		// role: answers during the race may be either.
		stop := make(chan struct{})
		var checkers sync.WaitGroup
		for _, m := range []*org.Manager{a, b} {
			for _, u := range users {
				checkers.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						_, err := m.Can(ctx, "acme", u, write, org.Resource{})
						require.NoError(t, err)
					}
				})
			}
		}
		roles := map[string]string{"mia": org.RoleReadOnly, "rita": org.RoleMember}
		if round%2 == 1 {
			roles = map[string]string{"mia": org.RoleMember, "rita": org.RoleReadOnly}
		}
		var changers sync.WaitGroup
		changers.Go(func() { require.NoError(t, a.SetRole(ctx, owner, "acme", "mia", roles["mia"])) })
		changers.Go(func() { require.NoError(t, b.SetRole(ctx, owner, "acme", "rita", roles["rita"])) })
		changers.Wait()
		// Both changes are committed: move the clock to the bound.
		clock.Add(time.Second)
		fresh := manager()
		for _, m := range []*org.Manager{a, b, fresh} {
			for _, u := range users {
				ok, err := m.Can(ctx, "acme", u, write, org.Resource{})
				require.NoError(t, err)
				require.Equal(t, roles[u] == org.RoleMember, ok, "round %d: %s's %s after the bound", round, u, roles[u])
			}
		}
		close(stop)
		checkers.Wait()
	}
}

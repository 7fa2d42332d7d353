package auth_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/redisstore"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// instanceStores returns, for each of two simulated app instances, a store
// with its own connection pool (and Redis client) on shared back ends.
type redisClient = redis.Client

// volatileRedis opts a store on the shared test Redis, which keeps no AOF
// and no snapshots, out of redisstore's persistence checks.
func volatileRedis(st *redisstore.Store) *redisstore.Store {
	st.AllowVolatileRedis = true
	return st
}

type instanceStores func(t *testing.T) [2]auth.Store

func sqlPools(t *testing.T, open func(testing.TB) *sql.DB) sqlstore.AuthStore {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), open(t))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	return st.Auth()
}

var backends = []struct {
	name   string
	stores instanceStores
}{
	{"memory", func(*testing.T) [2]auth.Store {
		s := memstore.NewAuthStore()
		return [2]auth.Store{s, s}
	}},
	{"postgres+redis", func(t *testing.T) [2]auth.Store {
		dsn := testenv.PostgresDSN(t)
		rc1, prefix := testenv.Redis(t)
		rc2, _ := testenv.Redis(t)
		var out [2]auth.Store
		for i, rc := range []*redisClient{rc1, rc2} {
			sq := sqlPools(t, func(tb testing.TB) *sql.DB { return testenv.OpenPostgres(tb, dsn) })
			out[i] = auth.SplitStore(sq, volatileRedis(redisstore.New(rc, prefix)).Auth(), sq, sq)
		}
		return out
	}},
	{"redis", func(t *testing.T) [2]auth.Store {
		rc1, prefix := testenv.Redis(t)
		rc2, _ := testenv.Redis(t)
		return [2]auth.Store{volatileRedis(redisstore.New(rc1, prefix)).Auth(), volatileRedis(redisstore.New(rc2, prefix)).Auth()}
	}},
	{"sqlite", func(t *testing.T) [2]auth.Store {
		path := testenv.SQLitePath(t)
		open := func(tb testing.TB) *sql.DB { return testenv.OpenSQLite(tb, path) }
		return [2]auth.Store{sqlPools(t, open), sqlPools(t, open)}
	}},
}

// TestFullFlowTwoInstances runs registration, MFA login, lockout and reset
// with every step alternating between two Authenticators, each with its own
// pools, on shared back ends.
func TestFullFlowTwoInstances(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, nil)
			st := b.stores(t)
			a1, a2 := mustNew(st[0], e.cfg), mustNew(st[1], e.cfg)

			// Namesakes registering on both instances at once get distinct logins.
			errs := make(chan error, 20)
			for i := range 20 {
				a := a1
				if i%2 == 1 {
					a = a2
				}
				go func() {
					errs <- a.Register(ctx, auth.Registration{FirstName: "Jan", LastName: "Kowalski",
						Email: "jan" + string(rune('a'+i)) + "@example.com", Password: "a long passphrase"}, client)
				}()
			}
			for range 20 {
				require.NoError(t, <-errs)
			}
			created := e.rec.notesOf(auth.NotifyAccountCreated)
			require.Len(t, created, 20)
			seen := map[string]bool{}
			for _, n := range created {
				require.False(t, seen[n.Username], "duplicate %s", n.Username)
				seen[n.Username] = true
			}
			jan, err := e.creds.FindUser(ctx, auth.ByEmail, "jana@example.com")
			require.NoError(t, err)
			user := auth.Notification{UserID: jan.ID, Username: jan.Username}
			e.mfa.enroll(user.UserID)

			// Password on instance 1, second factor on instance 2.
			res, err := a1.Login(ctx, user.Username, "a long passphrase", client)
			require.NoError(t, err)
			require.Equal(t, auth.StepMFA, res.Next)
			other := client
			other.Binding = "someone else"
			_, err = a2.CompleteMFA(ctx, res.PendingToken, "good1", other)
			require.ErrorIs(t, err, auth.ErrInvalidPending)
			done, err := a2.CompleteMFA(ctx, res.PendingToken, "good1", client)
			require.NoError(t, err)
			require.Equal(t, auth.StepDone, done.Next)
			_, err = a1.CompleteMFA(ctx, res.PendingToken, "good2", client)
			require.ErrorIs(t, err, auth.ErrInvalidPending)

			// Failures alternate between instances and still lock.
			for i := range auth.DefaultFailureFactor {
				a := []*auth.Authenticator{a1, a2}[i%2]
				_, err := a.Login(ctx, user.Username, "wrong", ipClient(i))
				require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			}
			_, err = a1.Login(ctx, user.Username, "a long passphrase", client)
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)

			// Reset requested on one instance, used on the other, once; it
			// ends sessions and clears the lock, and MFA still applies.
			require.NoError(t, a1.RequestPasswordReset(ctx, "jana@example.com", client))
			link := e.rec.lastLink(t)
			require.NoError(t, a2.ResetPassword(ctx, link.Token, "another long passphrase", client))
			require.ErrorIs(t, a1.ResetPassword(ctx, link.Token, "third long passphrase", client), auth.ErrInvalidResetToken)
			require.Zero(t, e.sess.count(link.UserID))
			require.Equal(t, user.UserID, link.UserID)
			res, err = a1.Login(ctx, user.Username, "another long passphrase", client)
			require.NoError(t, err)
			require.Equal(t, auth.StepMFA, res.Next)
		})
	}
}

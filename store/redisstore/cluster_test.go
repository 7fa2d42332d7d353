package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// testCluster is a Redis Cluster of private redis-server processes on
// loopback ports in 17000-17999 (bus ports +10000), made with
// redis-cli --cluster create and stopped at cleanup.
type testCluster struct {
	t     testing.TB
	nodes []*privateRedis
}

// clusterPorts finds n consecutive free ports in 17000-17999 whose bus
// ports are free too.
func clusterPorts(t testing.TB, n int) int {
	t.Helper()
	free := func(p int) bool {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		_ = l.Close()
		return true
	}
	for range 200 {
		base := 17000 + rand.IntN(1000-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = free(p) && free(p+10000)
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports for a test cluster in 17000-17999")
	return 0
}

// startCluster starts primaries*(1+replicas) nodes and joins them.
func startCluster(t testing.TB, primaries, replicas int) *testCluster {
	t.Helper()
	if os.Getenv(testenv.EnvRedis) == "" {
		t.Skip(testenv.SkipMarker + " " + testenv.EnvRedis + " is not set; Redis Cluster tests skipped")
	}
	needRedisServer(t)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli is not on PATH: %v", err)
	}
	n := primaries * (1 + replicas)
	base := clusterPorts(t, n)
	c := &testCluster{t: t}
	var addrs []string
	for i := range n {
		node := startPrivateRedis(t, base+i, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--save", "", "--appendonly", "yes")
		c.nodes = append(c.nodes, node)
		addrs = append(addrs, node.Addr())
	}
	cli := func(port int, args ...string) {
		t.Helper()
		out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
		require.NotContains(t, string(out), "ERR", strings.Join(args, " "))
	}
	if primaries >= 3 {
		args := append([]string{"--cluster", "create"}, addrs...)
		cli(base, append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")...)
	} else {
		// redis-cli wants three primaries; join and assign slots by hand.
		require.Zero(t, replicas, "fewer than 3 primaries: no replicas")
		for i := 1; i < n; i++ {
			cli(base+i, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(base))
		}
		for i := range n {
			lo, hi := 16384*i/n, 16384*(i+1)/n-1
			cli(base+i, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi))
		}
	}
	waitFor(t, "cluster_state:ok on every node", func() bool {
		for _, node := range c.nodes {
			out, err := exec.Command("redis-cli", "-p", strconv.Itoa(node.port), "CLUSTER", "INFO").Output()
			if err != nil || !strings.Contains(string(out), "cluster_state:ok") {
				return false
			}
			// Replicas have their first copy (so that WAIT can count them).
			out, err = exec.Command("redis-cli", "-p", strconv.Itoa(node.port), "INFO", "replication").Output()
			if err != nil || (strings.Contains(string(out), "role:slave") && !strings.Contains(string(out), "master_link_status:up")) {
				return false
			}
		}
		return true
	})
	return c
}

// client returns a cluster client, closed at cleanup.
func (c *testCluster) client() *redis.ClusterClient {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.Addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, PoolSize: 16})
	c.t.Cleanup(func() { _ = cc.Close() })
	require.NoError(c.t, cc.ForEachShard(context.Background(), func(ctx context.Context, s *redis.Client) error {
		return s.Ping(ctx).Err()
	}))
	return cc
}

// keysPerPrimary counts the keys on each primary, leaving out the
// short-lived tick keys ("...}:w") that revoking scripts write before WAIT.
func keysPerPrimary(t testing.TB, cc *redis.ClusterClient) map[string]int64 {
	var mu sync.Mutex
	out := map[string]int64{}
	require.NoError(t, cc.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		var n int64
		it := m.Scan(ctx, 0, "*", 1000).Iterator()
		for it.Next(ctx) {
			if !strings.HasSuffix(it.Val(), "}:w") {
				n++
			}
		}
		err := it.Err()
		mu.Lock()
		out[m.Options().Addr] = n
		mu.Unlock()
		return err
	}))
	return out
}

// TestSessionCluster runs sessions on a real local Redis Cluster of three
// primaries, each with a replica.
func TestSessionCluster(t *testing.T) {
	cl := startCluster(t, 3, 1)
	ctx := context.Background()

	// Sessions of 10,000 users land on every primary within ±20% of even,
	// and each token leads to its user's slot.
	t.Run("Spread", func(t *testing.T) {
		cc := cl.client()
		st := redisstore.New(cc, "spread:").Session()
		now := time.Now()
		m := mustSessions(t, st, session.Config{Now: func() time.Time { return now }})
		const users = 10000
		tokens := make([]string, users)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < users; i += 16 {
					iss, err := m.Create(ctx, "user-"+strconv.Itoa(i), session.Login{Factors: []string{"password"}})
					if err != nil {
						errs <- err
						return
					}
					tokens[i] = iss.Token
				}
			}()
		}
		wg.Wait()
		close(errs)
		require.NoError(t, <-errs)
		for _, i := range []int{0, 1, users / 2, users - 1} {
			h, _ := hashToken(tokens[i])
			user := "user-" + strconv.Itoa(i)
			require.Equal(t, st.(session.TokenPlacer).TokenByte(user), h[0], "the token names its user's bucket")
			s, err := m.Validate(ctx, tokens[i])
			require.NoError(t, err)
			require.Equal(t, user, s.UserID)
			ks, _ := cc.ClusterKeySlot(ctx, redisstore.SessionHashKey(st, "t", h)).Result()
			ku, _ := cc.ClusterKeySlot(ctx, redisstore.SessionUserKey(st, "u", user)).Result()
			require.Equal(t, ku, ks, "a session and its user's index share a slot")
		}
		per := keysPerPrimary(t, cc)
		require.Len(t, per, 3)
		var total int64
		for _, n := range per {
			total += n
		}
		require.Equal(t, int64(2*users), total, "a session and an index per user")
		even := float64(total) / 3
		for addr, n := range per {
			t.Logf("primary %s: %d keys (%.1f%% of even)", addr, n, 100*float64(n)/even)
			require.InEpsilon(t, even, float64(n), 0.20, "primary %s", addr)
		}
	})

	// Every flow of the Manager works on the cluster: rotation, remember-me
	// (the next token stays in its user's slot), list, revoke, logout.
	t.Run("Flows", func(t *testing.T) {
		cc := cl.client()
		var reuses atomic.Int64
		m := mustSessions(t, redisstore.New(cc, "flows:").Session(), session.Config{RememberMe: true, MaxSessions: session.Unlimited,
			OnError: func(_ context.Context, err error) { t.Errorf("store error: %v", err) },
			Hook: func(_ context.Context, e session.Event) {
				if e.Type == session.EventRememberReuse {
					reuses.Add(1)
				}
			}})
		for i := range 20 {
			user := "flow-" + strconv.Itoa(i)
			a, err := m.Create(ctx, user, session.Login{Remember: true, Factors: []string{"password"}})
			require.NoError(t, err)
			rot, err := m.Rotate(ctx, a.Token, []string{"password", "totp"})
			require.NoError(t, err)
			_, err = m.Validate(ctx, a.Token)
			require.ErrorIs(t, err, session.ErrNotFound, "the rotated-away token")
			code, resToken, next := resumeOverHTTP(m, a.RememberToken)
			require.Equal(t, http.StatusOK, code, "resumed from the remember-me cookie")
			require.NotEmpty(t, next, "a new remember-me token")
			list, err := m.List(ctx, user)
			require.NoError(t, err)
			require.Len(t, list, 2)
			before := reuses.Load()
			code, _, _ = resumeOverHTTP(m, a.RememberToken)
			require.Equal(t, http.StatusUnauthorized, code, "a used remember-me token")
			require.Equal(t, before+1, reuses.Load(), "reported as reuse")
			for _, tok := range []string{rot.Token, resToken} {
				_, err = m.Validate(ctx, tok)
				require.ErrorIs(t, err, session.ErrNotFound, "reuse revokes the family's sessions")
			}
			b, err := m.Create(ctx, user, session.Login{})
			require.NoError(t, err)
			n, err := m.RevokeAll(ctx, user, "")
			require.NoError(t, err)
			require.Equal(t, 1, n)
			_, err = m.Validate(ctx, b.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
		}
	})

	// The single-session rule holds under 1,000 concurrent logins from 4
	// instances, each with its own cluster client.
	t.Run("ConcurrentLogins", func(t *testing.T) {
		round := 0
		sessiontest.RunConcurrentLogins(t, func(t *testing.T) []session.Store {
			round++
			prefix := "logins-" + strconv.Itoa(round) + ":"
			stores := make([]session.Store, 4)
			for i := range stores {
				stores[i] = redisstore.New(cl.client(), prefix).Session()
			}
			return stores
		}, 1000)
	})

	// The tab-close mark, set, cleared and touched from 4 instances at
	// once, stays one script on the session's slot.
	t.Run("ConcurrentClosing", func(t *testing.T) {
		sessiontest.RunConcurrentClosing(t, func(t *testing.T) []session.Store {
			stores := make([]session.Store, 4)
			for i := range stores {
				stores[i] = redisstore.New(cl.client(), "closing:").Session()
			}
			return stores
		}, 30)
	})

	// A primary fails over mid-run (CLUSTER FAILOVER on its replica) while
	// logins, validations and revocations go on: a validation either fails
	// or finds a session that was not revoked when it began, and every
	// acknowledged revocation holds afterwards.
	t.Run("Failover", func(t *testing.T) { clusterFailover(t, cl) })

	// A primary crashes right after a logout whose replica had not received
	// it: the logout must not have been acknowledged, or the promoted
	// replica would serve the session again.
	t.Run("CrashAfterRevocation", func(t *testing.T) { clusterCrash(t, cl) })
}

func clusterCrash(t *testing.T, cl *testCluster) {
	ctx := context.Background()
	cc := cl.client()
	st := redisstore.New(cc, "crash:").Session()
	m := mustSessions(t, st, session.Config{})
	// A user in the last third of the slots: not the shard Failover used.
	var user string
	var slot int64
	for i := 0; slot < 16384*2/3+1; i++ {
		user = "crash-user-" + strconv.Itoa(i)
		var err error
		slot, err = cc.ClusterKeySlot(ctx, redisstore.SessionUserKey(st, "u", user)).Result()
		require.NoError(t, err)
	}
	iss, err := m.Create(ctx, user, session.Login{})
	require.NoError(t, err)
	primaryClient, err := cc.MasterForKey(ctx, redisstore.SessionUserKey(st, "u", user))
	require.NoError(t, err)
	var primary *privateRedis
	for _, n := range cl.nodes {
		if n.Addr() == primaryClient.Options().Addr {
			primary = n
		}
	}
	require.NotNil(t, primary)
	replica := cl.replicaOf(t, cc, int(slot))

	// The replica is stopped while the logout runs, so it cannot
	// acknowledge it; then the primary dies and the replica takes over.
	// The logout must report that it is not durable (ErrNotReplicated)
	// rather than succeed, and a logout that did succeed must hold.
	replica.signal(syscall.SIGSTOP)
	destroyErr := m.Destroy(ctx, iss.Token)
	replica.signal(syscall.SIGCONT)
	primary.signal(os.Kill)

	start := time.Now()
	failed := 0
	var verr error
	waitFor(t, "the replica to serve the slot", func() bool {
		_, verr = m.Validate(ctx, iss.Token)
		if verr != nil && !errors.Is(verr, session.ErrNotFound) {
			failed++ // the slot has no primary yet: denied
			return false
		}
		return true
	})
	t.Logf("validations denied while the slot had no primary: %d over %v; logout: %v", failed, time.Since(start).Round(100*time.Millisecond), destroyErr)
	require.Positive(t, failed, "the slot had no primary for a while")
	if destroyErr == nil {
		require.ErrorIs(t, verr, session.ErrNotFound, "an acknowledged logout was lost in the failover")
	}
	require.ErrorIs(t, destroyErr, redisstore.ErrNotReplicated)
}

func clusterFailover(t *testing.T, cl *testCluster) {
	ctx := context.Background()
	cc := cl.client()
	st := redisstore.New(cc, "failover:").Session()
	m := mustSessions(t, st, session.Config{MaxSessions: session.Unlimited})
	const users = 300
	type tok struct {
		token   string
		revoked atomic.Bool // set once the revocation was acknowledged
	}
	var mu sync.Mutex
	var toks []*tok
	for i := range users {
		iss, err := m.Create(ctx, "fo-"+strconv.Itoa(i), session.Login{})
		require.NoError(t, err)
		toks = append(toks, &tok{token: iss.Token})
	}
	pick := func(r *rand.Rand) *tok {
		mu.Lock()
		defer mu.Unlock()
		return toks[r.IntN(len(toks))]
	}

	stop := make(chan struct{})
	var granted, denied, errs, revokes, logins atomic.Int64
	var bad atomic.Value
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch x := pick(r); r.IntN(4) {
				case 0: // revoke
					if err := m.Destroy(ctx, x.token); err == nil || errors.Is(err, session.ErrNotFound) {
						if err == nil {
							revokes.Add(1)
						}
						x.revoked.Store(true)
					}
				case 1: // log in
					iss, err := m.Create(ctx, "fo-"+strconv.Itoa(r.IntN(users)), session.Login{})
					if err == nil {
						logins.Add(1)
						mu.Lock()
						toks = append(toks, &tok{token: iss.Token})
						mu.Unlock()
					} else {
						errs.Add(1)
					}
				default: // validate
					wasRevoked := x.revoked.Load()
					_, err := m.Validate(ctx, x.token)
					switch {
					case err == nil && wasRevoked:
						bad.Store("a session revoked before the validation began was granted")
					case err == nil:
						granted.Add(1)
					case errors.Is(err, session.ErrNotFound):
						denied.Add(1)
					default:
						errs.Add(1)
					}
				}
			}
		}()
	}

	// Let the load run, then fail over the primary of one slot range.
	waitFor(t, "some traffic", func() bool { return granted.Load() > 200 && revokes.Load() > 50 })
	replica := cl.replicaOf(t, cc, 0)
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(replica.port), "CLUSTER", "FAILOVER").CombinedOutput()
	require.NoError(t, err, string(out))
	waitFor(t, "the replica to become a primary", func() bool {
		out, err := exec.Command("redis-cli", "-p", strconv.Itoa(replica.port), "ROLE").Output()
		return err == nil && strings.HasPrefix(string(out), "master")
	})
	before := granted.Load() + revokes.Load()
	waitFor(t, "traffic after the failover", func() bool { return granted.Load()+revokes.Load() > before+200 })
	close(stop)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	t.Logf("granted %d, denied %d, errors %d, revocations %d, logins %d", granted.Load(), denied.Load(), errs.Load(), revokes.Load(), logins.Load())

	// Every acknowledged revocation holds after the failover.
	for _, x := range toks {
		if !x.revoked.Load() {
			continue
		}
		_, err := m.Validate(ctx, x.token)
		require.ErrorIs(t, err, session.ErrNotFound, "a revocation was lost in the failover")
	}
}

// replicaOf returns the node that replicates the primary serving slot 0.
func (c *testCluster) replicaOf(t testing.TB, cc *redis.ClusterClient, slot int) *privateRedis {
	shards, err := cc.ClusterShards(context.Background()).Result()
	require.NoError(t, err)
	for _, sh := range shards {
		in := false
		for _, r := range sh.Slots {
			in = in || (int64(slot) >= r.Start && int64(slot) <= r.End)
		}
		if !in {
			continue
		}
		for _, node := range sh.Nodes {
			for _, n := range c.nodes {
				if node.Role == "replica" && int(node.Port) == n.port {
					return n
				}
			}
		}
	}
	t.Fatalf("no replica for slot %d", slot)
	return nil
}

// BenchmarkSessionCluster measures validation and login throughput on
// clusters of 1, 2 and 3 primaries (no replicas), all on this machine, in
// one run: compare the three within the run. 64 goroutines share one
// cluster client; users are spread as in production.
func BenchmarkSessionCluster(b *testing.B) {
	for _, primaries := range []int{1, 2, 3} {
		cl := startCluster(b, primaries, 0)
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{cl.nodes[0].Addr()}, PoolSize: 64})
		ctx := context.Background()
		m := mustSessions(b, redisstore.New(cc, "bench:").Session(), session.Config{MaxSessions: session.Unlimited})
		tokens := make([]string, 2000)
		for i := range tokens {
			iss, err := m.Create(ctx, "user-"+strconv.Itoa(i), session.Login{Factors: []string{"password"}})
			if err != nil {
				b.Fatal(err)
			}
			tokens[i] = iss.Token
		}
		b.Run(fmt.Sprintf("validate/primaries=%d", primaries), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 1))
				for pb.Next() {
					if _, err := m.Validate(ctx, tokens[r.IntN(len(tokens))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(fmt.Sprintf("login/primaries=%d", primaries), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Create(ctx, "login-"+strconv.FormatInt(n.Add(1), 10), session.Login{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		_ = cc.Close()
		for _, node := range cl.nodes {
			node.stop()
		}
	}
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrVolatileRedis is returned by the operations that need Redis to keep
// what it is told (used TOTP steps, attempt counters, brute-force counters
// and permanent locks, claims) when Redis neither appends to an AOF file
// nor takes RDB snapshots, so a restart would forget them. Set
// [Store.AllowVolatileRedis] to accept that risk.
var ErrVolatileRedis = errors.New("redisstore: Redis does not persist its data (no appendonly, no snapshots)")

// ErrRedisRestarted is returned by the MarkStep of [Store.MFA] when the Redis node
// holding the mark started less than the mark's keep window ago: the marks
// written before the restart may be gone, so a code used a moment before
// could be accepted again. The refusal ends by itself once the node has
// been up for the whole window (the TOTP validity window).
var ErrRedisRestarted = errors.New("redisstore: Redis restarted within the code validity window")

// guardRecheck is how long a persistence verdict is trusted before the
// next operation that needs persistence asks Redis again: a CONFIG SET
// appendonly no at run time is noticed within this time. One INFO (and at
// most one CONFIG GET) per node per 30 s is negligible load.
const guardRecheck = 30 * time.Second

// guard caches whether the Redis behind a Store persists its data.
type guard struct {
	mu      sync.Mutex
	checked time.Time // when err was decided; zero: never
	err     error     // nil: every node persists

	replicas map[string]replicaCount // by node address
}

// CheckPersistence reports, as the store's guarded operations will, whether
// this Store may rely on Redis keeping its data: nil when every node keeps
// an AOF or takes snapshots, or when AllowVolatileRedis is set; an error
// matching [ErrVolatileRedis] otherwise, or the error of a node that could
// not be asked. Hosts call it at start-up to refuse to run on a volatile
// Redis with a clear message, rather than deny every login later.
func (s *Store) CheckPersistence(ctx context.Context) error { return s.persistent(ctx) }

// persistent returns nil if the Store may rely on Redis keeping its data:
// the host opted out with AllowVolatileRedis, or every node (every shard's
// primary and replica on a cluster) appends to an AOF file or takes
// snapshots. It fails closed: a node that cannot be asked is an error.
func (s *Store) persistent(ctx context.Context) error {
	if s.AllowVolatileRedis {
		return nil
	}
	g := s.guard
	g.mu.Lock()
	if !g.checked.IsZero() && time.Since(g.checked) < guardRecheck {
		err := g.err
		g.mu.Unlock()
		return err
	}
	g.mu.Unlock()

	var verdict error
	check := func(ctx context.Context, c *redis.Client) error {
		err := nodePersistent(ctx, c)
		if errors.Is(err, ErrVolatileRedis) {
			g.mu.Lock()
			verdict = err
			g.mu.Unlock()
			return nil
		}
		return err
	}
	var err error
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachShard(ctx, check)
	case *redis.Client:
		err = check(ctx, c)
	default:
		// A Ring or another UniversalClient: ask the node the client
		// picks; a ring's shards are the host's business.
		err = nodePersistentCmd(ctx, s.client)
		if errors.Is(err, ErrVolatileRedis) {
			verdict, err = err, nil
		}
	}
	if err != nil {
		// Not a verdict: Redis could not be asked. Deny, ask again next time.
		return fmt.Errorf("redisstore: check persistence: %w", err)
	}
	g.mu.Lock()
	g.checked, g.err = time.Now(), verdict
	g.mu.Unlock()
	return verdict
}

func nodePersistent(ctx context.Context, c *redis.Client) error {
	err := nodePersistentCmd(ctx, c)
	if errors.Is(err, ErrVolatileRedis) {
		return fmt.Errorf("%w: node %s", err, c.Options().Addr)
	}
	return err
}

// nodePersistentCmd asks one node. INFO persistence says whether AOF is
// on (managed services that disable CONFIG still answer INFO); snapshots
// only show in CONFIG GET save. A node that refuses CONFIG and has no AOF
// is judged volatile: nothing says it snapshots.
func nodePersistentCmd(ctx context.Context, c redis.Cmdable) error {
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		return err
	}
	if infoField(info, "aof_enabled") == "1" {
		return nil
	}
	save, err := c.ConfigGet(ctx, "save").Result()
	if err != nil {
		return fmt.Errorf("%w (and CONFIG GET save is refused)", ErrVolatileRedis)
	}
	if strings.TrimSpace(save["save"]) != "" {
		return nil
	}
	return ErrVolatileRedis
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ErrNotReplicated is returned by a session revocation (logout, revoke,
// rotation, remember-me reuse) that the primary applied but no replica
// acknowledged within a second: if the primary failed now, a replica
// promoted in its place could bring the session back. The caller should
// treat the revocation as not done and retry.
var ErrNotReplicated = errors.New("redisstore: revocation not acknowledged by a replica")

// replicaWait is how long a revocation waits for a replica's
// acknowledgement (WAIT) before it is reported as not replicated.
const replicaWait = time.Second

// replicas returns how many in-sync replicas node has (INFO replication:
// the slaveN lines with state=online; a replica still loading its first
// copy cannot acknowledge, nor be promoted), cached for guardRecheck per
// node.
func (s *Store) replicas(ctx context.Context, node *redis.Client) (int, error) {
	addr := node.Options().Addr
	g := s.guard
	g.mu.Lock()
	if r, ok := g.replicas[addr]; ok && time.Since(r.checked) < guardRecheck {
		g.mu.Unlock()
		return r.n, nil
	}
	g.mu.Unlock()
	info, err := node.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, ",state=online,") {
			n++
		}
	}
	g.mu.Lock()
	if g.replicas == nil {
		g.replicas = map[string]replicaCount{}
	}
	g.replicas[addr] = replicaCount{n: n, checked: time.Now()}
	g.mu.Unlock()
	return n, nil
}

type replicaCount struct {
	n       int
	checked time.Time
}

// runReplicated runs a revoking script on the primary that holds key and,
// if that primary has replicas, waits in the same connection (WAIT) until
// one of them has it too, so an acknowledged revocation survives the
// primary's failure. It fails with ErrNotReplicated otherwise.
func (s *Store) runReplicated(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := s.runReplicatedOnce(ctx, script, keys, args...)
	s.afterError(cmd.Err())
	return cmd
}

func (s *Store) runReplicatedOnce(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	var node *redis.Client
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		n, err := c.MasterForKey(ctx, keys[0])
		if err != nil {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(err)
			return cmd
		}
		node = n
	case *redis.Client:
		node = c
	default:
		return script.Run(ctx, s.client, keys, args...)
	}
	n, err := s.replicas(ctx, node)
	if err != nil {
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	if n == 0 {
		return script.Run(ctx, node, keys, args...)
	}
	// WAIT covers only the writes of its own connection. A script that
	// finds nothing to revoke (a retry after ErrNotReplicated, from this
	// instance or another) writes nothing, and WAIT would return at once
	// while the earlier revocation is still unreplicated. So each script
	// is followed by a write to a tick key on the same slot: its ack
	// covers every write the primary made before it.
	tick := syncKey(keys[0])
	for attempt := 0; ; attempt++ {
		pipe := node.Pipeline()
		cmd := script.EvalSha(ctx, pipe, keys, args...)
		pipe.Set(ctx, tick, "1", replicaWait)
		wait := pipe.Do(ctx, "WAIT", 1, replicaWait.Milliseconds())
		_, _ = pipe.Exec(ctx)
		if err := cmd.Err(); err != nil && attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := script.Load(ctx, node).Err(); err != nil {
				return cmd
			}
			continue
		}
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return cmd
		}
		// A nil reply (nothing found) is checked too: "not found" is only
		// true once the revocation that removed it is replicated.
		if acked, err := wait.Int(); err != nil || acked < 1 {
			cmd.SetErr(ErrNotReplicated)
		}
		return cmd
	}
}

// syncKey is the tick key in key's slot: key up to the end of its hash
// tag, then ":w" (no other key of the package ends its tag so).
func syncKey(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[:open+1+end+1] + ":w"
		}
	}
	return key + ":w"
}

// afterError asks a cluster client to reload its slot map when a command
// failed for want of a connection: after a primary dies, go-redis keeps
// dialing it until its map is refreshed (about a minute), and every
// request for its slots is denied meanwhile. A server's own error reply
// (redis.Error) needs no reload; MOVED replies are followed by go-redis.
func (s *Store) afterError(err error) {
	c, ok := s.client.(*redis.ClusterClient)
	if !ok || err == nil || errors.Is(err, redis.Nil) {
		return
	}
	var re redis.Error
	if errors.As(err, &re) {
		return
	}
	c.ReloadState(context.Background())
}

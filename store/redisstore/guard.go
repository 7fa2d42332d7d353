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

// ErrRedisRestarted is returned by [MFAStore.MarkStep] when the Redis node
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
}

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

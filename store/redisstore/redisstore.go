// Package redisstore implements Bulwark's store interfaces that suit Redis:
// sessions, throttling counters, one-time codes, used-code marks and locks.
//
// # Bring your own client
//
// The host creates a go-redis client (standalone, Sentinel or Cluster) and
// hands it over with a key prefix that keeps Bulwark's keys apart from the
// host's own:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	st := redisstore.New(rdb, "myapp:")
//
// # Components
//
// The Store hands out each component as the interface its package
// defines, all sharing the client and prefix:
//
//   - [Store.Session]: a [session.Store] (also a [session.TokenPlacer]);
//   - [Store.Auth]: a whole [auth.Store] (counters, claims, reset tokens,
//     pending MFA);
//   - [Store.MFA]: an [MFAStore], mfa's short-lived parts (used steps,
//     attempt counters, emailed codes), to combine with a durable store in
//     [mfa.Stores];
//   - [Store.Retention]: a [retention.Locker] for the erasure scheduler;
//   - [Store.Counters] and [Store.Tokens]: the storage building blocks
//     (counters with expiry, single-use hashed tokens).
//
// Optional interfaces stay reachable by a type assertion on the value
// returned, as the session Manager does for [session.TokenPlacer].
//
// # Atomicity and expiry
//
// Every rule that must hold across app instances (single use, attempt
// limits, the single-session limit) is checked and applied in one Lua
// script or MULTI transaction, so two instances can never both win. Keys
// carry TTLs that match the expiry of what they hold, so Redis forgets
// expired records by itself. A Redis error is returned to the caller, and
// Bulwark's packages treat it as a denial.
//
// # Redis Cluster
//
// Pass a *redis.ClusterClient (any redis.UniversalClient works). Keys that
// a script touches together share a hash tag ({...}), so they live on one
// slot. Sessions are spread over the cluster: each user belongs to one of
// 256 buckets whose tags cover the 16384 slots evenly, a user's sessions,
// index and remember-me records live in the user's bucket (so the
// single-session rule and revocations stay one atomic script), and the
// session Manager draws every token so that its hash names its user's
// bucket (see [Store.Session] and session.TokenPlacer): validation goes
// straight to the right primary with one GET. During a failover the
// commands that reach a node that is not (yet) the primary fail, and
// Bulwark denies; a manual failover (CLUSTER FAILOVER) loses no write.
// Redis replication is asynchronous, so after a crash a write the old
// primary acknowledged but had not yet sent can be lost. For the writes
// that revoke a session (logout, revoke, rotation, eviction, remember-me
// reuse) that would bring a session back, so when the primary has
// in-sync replicas, each such script is followed on the same connection
// by WAIT 1 1000: a revocation no replica acknowledged within a second
// returns [ErrNotReplicated], and the host must treat it as not done. When
// a command fails for want of a connection, the cluster client is asked to
// reload its slot map, so requests find the promoted replica within a
// moment of its promotion instead of dialing the dead primary for a minute.
//
// # Persistence is required
//
// Some of what this package keeps is a security record that must outlive a
// Redis restart: the used-step marks that make a TOTP code single use, the
// attempt counters and lockouts of mfa and auth (auth's permanent locks
// included) and auth's claims. A Redis run with --appendonly no and no
// snapshots (save "") forgets them when it restarts, and a code accepted a
// moment before would be accepted again. So those operations first check
// that every node of the Redis either appends to an AOF file (INFO
// persistence, aof_enabled:1; what managed services that disable CONFIG
// still report) or takes RDB snapshots (CONFIG GET save); otherwise they
// fail with [ErrVolatileRedis], and Bulwark's packages deny. The verdict is
// cached for 30 seconds, so turning AOF off at run time is noticed. A host
// that accepts the risk (a development machine, a cache-only test) sets
// [Store.AllowVolatileRedis].
//
// Persistence is not enough on its own: with appendfsync everysec, or
// snapshots only, a crash loses the last writes. So the MarkStep of [Store.MFA]
// also asks, in the same script that writes the mark, how long the node
// has been up (INFO server, uptime_in_seconds, which restarts from zero
// exactly when the run_id changes): while that is shorter than the mark's
// keep window (the TOTP validity window), marks from before the restart
// may be gone, and it fails with [ErrRedisRestarted]. TOTP codes are thus
// refused for about a minute and a half after a Redis restart; emailed
// codes, sessions, reset tokens and remember-me tokens vanish with a lost
// record and so fail closed without a check. AllowVolatileRedis turns this
// check off too. A failover to a replica that had not yet received the
// last writes is not detected (its uptime is long): give such a set-up
// persistence on every node and keep replication lag small.
package redisstore

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// Store is a Redis client with Bulwark's key prefix. It is safe for
// concurrent use; the per-component stores it hands out share the client.
type Store struct {
	// AllowVolatileRedis lets the operations that need persistence run on
	// a Redis that keeps no AOF and takes no snapshots, and turns off the
	// restart check of used TOTP steps: after a restart, used codes can be
	// accepted again and attempt counters and lockouts start from zero.
	// For development and tests only. Default false (the checks run): ASVS
	// 6.5.1 and NIST SP 800-63B 5.1.4.2 (a TOTP code succeeds once) and
	// ASVS 6.3.1 (brute-force limits hold). Set it before the Store is
	// used.
	AllowVolatileRedis bool

	client redis.UniversalClient
	prefix string
	guard  *guard
}

// New returns a Store that keeps every key under prefix (which may be
// empty). It panics if client is nil, a programming error.
func New(client redis.UniversalClient, prefix string) *Store {
	if client == nil {
		panic("redisstore: New with a nil client")
	}
	return &Store{client: client, prefix: prefix, guard: &guard{}}
}

// key joins the prefix and parts with ':'.
func (s *Store) key(parts ...string) string {
	return s.prefix + strings.Join(parts, ":")
}

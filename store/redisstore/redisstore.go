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
// # Atomicity and expiry
//
// Every rule that must hold across app instances (single use, attempt
// limits, the single-session limit) is checked and applied in one Lua
// script or MULTI transaction, so two instances can never both win. Keys
// carry TTLs that match the expiry of what they hold, so Redis forgets
// expired records by itself. A Redis error is returned to the caller, and
// Bulwark's packages treat it as a denial.
//
// On Redis Cluster, keys that a script touches together share a hash tag
// ({...}), so they live on one slot.
package redisstore

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// Store is a Redis client with Bulwark's key prefix. It is safe for
// concurrent use; the per-component stores it hands out share the client.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Store that keeps every key under prefix (which may be
// empty). It panics if client is nil, a programming error.
func New(client redis.UniversalClient, prefix string) *Store {
	if client == nil {
		panic("redisstore: New with a nil client")
	}
	return &Store{client: client, prefix: prefix}
}

// Client returns the underlying client.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// Key joins the prefix and parts with ':'.
func (s *Store) Key(parts ...string) string {
	return s.prefix + strings.Join(parts, ":")
}

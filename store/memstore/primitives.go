package memstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// counters is the in-memory counter with expiry (the contract is
// storetest.CounterStore; mfa.CounterStore is the same interface). One
// mutex makes each call atomic. Expired counters are dropped as later
// calls pass them. The zero value is not usable; call [NewCounters].
type counters struct {
	mu     sync.Mutex
	m      map[string]counter
	writes int
}

type counter struct {
	n       int64
	expires time.Time
}

// NewCounters returns an empty in-memory counter store. [mfa.CounterStore]
// is the same interface as storetest.CounterStore, its contract.
func NewCounters() mfa.CounterStore { return newCounters() }

func newCounters() *counters { return &counters{m: map[string]counter{}} }

// sweepEvery is the least number of writes between two sweeps of expired
// entries; a sweep also waits for as many writes as there are entries, so
// its cost stays constant per write and memory within twice what is live.
const sweepEvery = 4096

var errBadCount = errors.New("memstore: AddCount needs n >= 0 and a positive window")

// AddCount adds n to the counter at key, starting a new window at now if
// the counter is missing or expired; n = 0 only reads.
func (c *counters) AddCount(_ context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	if n < 0 || window <= 0 {
		return 0, time.Time{}, errBadCount
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[key]
	if !ok || !cur.expires.After(now) {
		if n == 0 {
			return 0, time.Time{}, nil
		}
		cur = counter{expires: now.Add(window)}
	}
	if n == 0 {
		return cur.n, cur.expires, nil
	}
	cur.n += n
	c.m[key] = cur
	if c.writes++; c.writes >= max(sweepEvery, len(c.m)) {
		c.writes = 0
		for k, v := range c.m {
			if !v.expires.After(now) {
				delete(c.m, k)
			}
		}
	}
	return cur.n, cur.expires, nil
}

// ResetCount deletes the counter at key.
func (c *counters) ResetCount(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// Tokens is the in-memory single-use token store (the contract is
// storetest.TokenStore). One mutex makes each call atomic; hashes are
// compared in constant time. Expired tokens are dropped as later calls
// pass them. The zero value is not usable; call [NewTokens].
type Tokens struct {
	mu     sync.Mutex
	m      map[string]token
	writes int
}

var errBadTTL = errors.New("memstore: PutToken needs a positive ttl")

type token struct {
	hash    [32]byte
	value   []byte
	expires time.Time
}

// NewTokens returns an empty Tokens.
func NewTokens() *Tokens { return &Tokens{m: map[string]token{}} }

// PutToken stores a token, replacing any at key.
func (s *Tokens) PutToken(_ context.Context, key string, hash [32]byte, value []byte, ttl time.Duration, now time.Time) error {
	if ttl <= 0 {
		return errBadTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = token{hash: hash, value: append([]byte{}, value...), expires: now.Add(ttl)}
	if s.writes++; s.writes >= max(sweepEvery, len(s.m)) {
		s.writes = 0
		for k, v := range s.m {
			if !v.expires.After(now) {
				delete(s.m, k)
			}
		}
	}
	return nil
}

// TakeToken deletes and returns the token at key if hash matches and it
// expires after now.
func (s *Tokens) TakeToken(_ context.Context, key string, hash [32]byte, now time.Time) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[key]
	if !ok || subtle.ConstantTimeCompare(t.hash[:], hash[:]) != 1 || !t.expires.After(now) {
		return nil, false, nil
	}
	delete(s.m, key)
	return t.value, true, nil
}

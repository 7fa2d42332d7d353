package memstore

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
)

var _ auth.Store = (*authStore)(nil)

// authStore is the in-memory [auth.Store]: claims (usernames, known
// devices), brute-force counters, reset tokens and pending-MFA states. It is
// safe for concurrent use; one mutex makes every operation atomic.
type authStore struct {
	mu       sync.Mutex
	claims   map[[2]string]auth.Claim
	counters map[string]authCounter
	windows  map[string]authWindow
	tokens   map[string]auth.ResetToken
	pending  map[string]auth.Pending
}

type authCounter struct {
	c       auth.Counter
	expires time.Time // zero: never
}

type authWindow struct {
	hits int
	end  time.Time
}

// AuthStore is what [NewAuthStore] returns: an [auth.Store] with the one
// method a host calls beyond it.
type AuthStore interface {
	auth.Store
	// PurgeAuth deletes expired counters, windows, reset tokens and
	// pending states, and returns how many records it removed. A
	// long-running process calls it now and then: nothing else frees
	// them.
	PurgeAuth(now time.Time) int
}

var _ AuthStore = (*authStore)(nil)

// NewAuthStore returns an empty in-memory [AuthStore].
func NewAuthStore() AuthStore {
	return &authStore{
		claims:   map[[2]string]auth.Claim{},
		counters: map[string]authCounter{},
		windows:  map[string]authWindow{},
		tokens:   map[string]auth.ResetToken{},
		pending:  map[string]auth.Pending{},
	}
}

// Claim implements [auth.ClaimStore].
func (s *authStore) Claim(_ context.Context, c auth.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{c.Kind, c.Key}
	if _, ok := s.claims[k]; ok {
		return auth.ErrTaken
	}
	s.claims[k] = c
	return nil
}

// Release implements [auth.ClaimStore].
func (s *authStore) Release(_ context.Context, kind, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{kind, key}
	if c, ok := s.claims[k]; !ok || c.Owner != owner {
		return auth.ErrNotFound
	}
	delete(s.claims, k)
	return nil
}

// Counter implements [auth.CounterStore].
func (s *authStore) Counter(_ context.Context, key string, now time.Time) (auth.Counter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[key]
	if !ok || c.expired(now) {
		return auth.Counter{}, nil
	}
	return c.c, nil
}

func (c authCounter) expired(now time.Time) bool {
	return !c.expires.IsZero() && !now.Before(c.expires)
}

// AddFailure implements [auth.CounterStore].
func (s *authStore) AddFailure(_ context.Context, key string, p auth.FailureParams) (auth.Counter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[key]
	if !ok || c.expired(p.Now) {
		c = authCounter{}
	}
	switch p.Op {
	case auth.FailureTouch:
		return c.c, nil
	case auth.FailureUndo:
		if ok && c.c != (auth.Counter{}) {
			c.c.Failures = max(c.c.Failures-1, 0)
			c.c.Consecutive = max(c.c.Consecutive-1, 0)
			s.counters[key] = c
		}
		return c.c, nil
	}
	if !c.c.LastFailure.IsZero() && p.Now.Sub(c.c.LastFailure) > p.ResetAfter {
		c.c.Failures = 0
	}
	c.c.Failures++
	c.c.Consecutive++
	c.c.LastFailure = p.Now.UTC()
	c.expires = p.Now.Add(p.Keep)
	if p.PersistAt > 0 && c.c.Consecutive >= p.PersistAt {
		c.expires = time.Time{}
	}
	s.counters[key] = c
	return c.c, nil
}

// ResetCounter implements [auth.CounterStore].
func (s *authStore) ResetCounter(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.counters, key)
	return nil
}

// AddHits implements [auth.CounterStore].
func (s *authStore) AddHits(_ context.Context, key string, now time.Time, window time.Duration, n int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[key]
	if !ok || !now.Before(w.end) {
		w = authWindow{end: now.Add(window)}
	}
	if n > 0 {
		w.hits += n
		s.windows[key] = w
	}
	return w.hits, nil
}

// CreateResetToken implements [auth.ResetTokenStore].
func (s *authStore) CreateResetToken(_ context.Context, t auth.ResetToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Hash = bytes.Clone(t.Hash)
	s.tokens[string(t.Hash)] = t
	return nil
}

// LookupResetToken implements [auth.ResetTokenStore].
func (s *authStore) LookupResetToken(_ context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[string(hash)]
	if !ok || !now.Before(t.ExpiresAt) {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	return t, nil
}

// ConsumeResetToken implements [auth.ResetTokenStore].
func (s *authStore) ConsumeResetToken(_ context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[string(hash)]
	if !ok {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	delete(s.tokens, string(hash))
	if !now.Before(t.ExpiresAt) {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	return t, nil
}

// DeleteResetTokens implements [auth.ResetTokenStore].
func (s *authStore) DeleteResetTokens(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if t.UserID == userID {
			delete(s.tokens, k)
		}
	}
	return nil
}

// CreatePending implements [auth.PendingStore].
func (s *authStore) CreatePending(_ context.Context, p auth.Pending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Hash = bytes.Clone(p.Hash)
	p.BindingHash = bytes.Clone(p.BindingHash)
	s.pending[string(p.Hash)] = p
	return nil
}

// AttemptPending implements [auth.PendingStore].
func (s *authStore) AttemptPending(_ context.Context, hash []byte, now time.Time, maxAttempts int) (auth.Pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[string(hash)]
	if !ok || !now.Before(p.ExpiresAt) || p.Attempts >= maxAttempts {
		return auth.Pending{}, auth.ErrNotFound
	}
	p.Attempts++
	s.pending[string(hash)] = p
	return p, nil
}

// DeletePending implements [auth.PendingStore].
func (s *authStore) DeletePending(_ context.Context, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[string(hash)]; !ok {
		return auth.ErrNotFound
	}
	delete(s.pending, string(hash))
	return nil
}

// PurgeAuth deletes expired counters, windows, reset tokens and pending
// states, and returns how many records it removed. A long-running process
// calls it now and then.
func (s *authStore) PurgeAuth(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.counters {
		if c.expired(now) {
			delete(s.counters, k)
			n++
		}
	}
	for k, w := range s.windows {
		if !now.Before(w.end) {
			delete(s.windows, k)
			n++
		}
	}
	for k, t := range s.tokens {
		if !now.Before(t.ExpiresAt) {
			delete(s.tokens, k)
			n++
		}
	}
	for k, p := range s.pending {
		if !now.Before(p.ExpiresAt) {
			delete(s.pending, k)
			n++
		}
	}
	return n
}

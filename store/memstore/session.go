package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/session"
)

var (
	_ session.Store   = (*sessionStore)(nil)
	_ session.Cleaner = (*sessionStore)(nil)
)

// sessionStore is an in-memory [session.Store]. Validation takes a read
// lock only; every write, including the single-session rule, happens under
// one write lock, so it is atomic. Expired records are pruned when their
// user is next written to, and by DeleteExpired, which finds them in an
// expiry-ordered index: its cost follows what expired, not how many
// records the store holds, and it gives the lock up every
// [sessionCleanChunk] records.
type sessionStore struct {
	mu       sync.RWMutex
	byHash   map[[32]byte]*session.Session
	byUser   map[string]map[[32]byte]struct{}
	remember map[[32]byte]*sessionRemember
	families map[string]map[[32]byte]struct{} // family -> token hashes
	userFams map[string]map[string]struct{}   // user -> families
	// expiries holds an entry for every expiry a session or remember-me
	// token was given (a min-heap by time). An entry is stale when its
	// record is gone or now expires at another time; DeleteExpired drops
	// those as it meets them, and index rebuilds the heap from the records
	// when stale entries outnumber them, so its size follows the records
	// held, not the writes made (a client repeating the tab-close beacon,
	// or a host that never calls Cleanup, would otherwise grow it without
	// bound).
	expiries expiryHeap
}

// index records that the session or remember-me token with hash hash now
// expires at at. When the heap holds more than twice as many entries as
// there are records (plus a little), it is rebuilt with one entry per
// record, in O(records): at least as many writes (creations, touches,
// marks, deletions) came since the last rebuild, so each write costs
// O(log n) amortised.
func (m *sessionStore) index(at time.Time, hash [32]byte, remember bool) {
	m.expiries.push(at, hash, remember)
	records := len(m.byHash) + len(m.remember)
	if len(m.expiries) <= 2*records+sessionCleanChunk {
		return
	}
	h := make(expiryHeap, 0, records+sessionCleanChunk)
	for k, s := range m.byHash {
		h = append(h, expiry{at: expiryKey(s.ExpiresAt), hash: k})
	}
	for k, r := range m.remember {
		h = append(h, expiry{at: expiryKey(r.ExpiresAt), hash: k, remember: true})
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	m.expiries = h
}

// sessionCleanChunk is how many index entries DeleteExpired handles per
// hold of the write lock: a few tens of microseconds, so that concurrent
// validations never wait for a whole cleanup.
const sessionCleanChunk = 64

// expiry is an entry of the expiry index: a session's or remember-me
// token's hash and the expiry it had when the entry was made.
type expiry struct {
	at       int64 // expiryKey of the expiry
	hash     [32]byte
	remember bool
}

// expiryHeap is a binary min-heap of expiries by time.
type expiryHeap []expiry

// expiryKey is t in microseconds, rounded up, so that a key at or before
// now's (rounded down) means t is not after now; microseconds keep any
// lifetime a host may configure within range.
func expiryKey(t time.Time) int64 {
	k := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		k++
	}
	return k
}

func (h *expiryHeap) push(at time.Time, hash [32]byte, remember bool) {
	*h = append(*h, expiry{at: expiryKey(at), hash: hash, remember: remember})
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].at <= a[i].at {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *expiryHeap) pop() expiry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	a.down(0)
	*h = a
	return top
}

// down moves the entry at i down to its place below.
func (h expiryHeap) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(h) && h[l].at < h[small].at {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].at < h[small].at {
			small = r
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

type sessionRemember struct {
	session.Remember
	used bool
}

// NewSessionStore returns an empty in-memory [session.Store]. It also
// implements [session.Cleaner], which [session.Manager.Cleanup] finds by a
// type assertion.
func NewSessionStore() session.Store {
	return &sessionStore{
		byHash:   map[[32]byte]*session.Session{},
		byUser:   map[string]map[[32]byte]struct{}{},
		remember: map[[32]byte]*sessionRemember{},
		families: map[string]map[[32]byte]struct{}{},
		userFams: map[string]map[string]struct{}{},
	}
}

func sessionCopy(s *session.Session) session.Session {
	c := *s
	c.Factors = slices.Clone(s.Factors)
	return c
}

func sessionAdd[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	if set == nil {
		set = map[V]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

func sessionDel[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if set := m[k]; set != nil {
		delete(set, v)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// Create implements [session.Store].
func (m *sessionStore) Create(_ context.Context, s *session.Session, lim session.Limit, replaces [32]byte) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := s.CreatedAt
	if replaces != ([32]byte{}) {
		// A rotation of a session revoked or expired meanwhile stores nothing.
		o := m.byHash[replaces]
		if o == nil || o.UserID != s.UserID || !now.Before(o.ExpiresAt) {
			return nil, session.ErrNotFound
		}
	}
	var live []*session.Session
	for h := range m.byUser[s.UserID] {
		o := m.byHash[h]
		switch {
		case h == replaces || !now.Before(o.ExpiresAt):
			m.deleteSession(h, false)
		default:
			live = append(live, o)
		}
	}
	var evicted []string
	if lim.Max > 0 && len(live) >= lim.Max {
		if !lim.ReplaceOld {
			return nil, session.ErrLimit
		}
		slices.SortFunc(live, func(a, b *session.Session) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		for _, o := range live[:len(live)-lim.Max+1] {
			evicted = append(evicted, o.ID)
			m.deleteSession(o.TokenHash, true)
		}
	}
	c := sessionCopy(s)
	m.byHash[s.TokenHash] = &c
	sessionAdd(m.byUser, s.UserID, s.TokenHash)
	m.index(c.ExpiresAt, c.TokenHash, false)
	return evicted, nil
}

// deleteSession removes a session, and its remember-me family if withFamily.
func (m *sessionStore) deleteSession(h [32]byte, withFamily bool) {
	s := m.byHash[h]
	if s == nil {
		return
	}
	delete(m.byHash, h)
	sessionDel(m.byUser, s.UserID, h)
	if withFamily && s.RememberFamily != "" {
		m.deleteFamily(s.UserID, s.RememberFamily)
	}
}

func (m *sessionStore) deleteFamily(userID, family string) {
	for h := range m.families[family] {
		delete(m.remember, h)
	}
	delete(m.families, family)
	sessionDel(m.userFams, userID, family)
}

// Get implements [session.Store].
func (m *sessionStore) Get(_ context.Context, hash [32]byte, now time.Time) (session.Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.byHash[hash]
	if s == nil || !now.Before(s.ExpiresAt) {
		return session.Session{}, session.ErrNotFound
	}
	return sessionCopy(s), nil
}

// Touch implements [session.Store].
func (m *sessionStore) Touch(_ context.Context, hash [32]byte, now, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byHash[hash]
	if s == nil || !now.Before(s.ExpiresAt) {
		return session.ErrNotFound
	}
	if now.After(s.LastSeen) {
		s.LastSeen = now
	}
	if expires.After(s.ExpiresAt) && s.Closing.IsZero() {
		s.ExpiresAt = expires
		m.index(expires, hash, false)
	}
	return nil
}

// MarkClosing implements [session.Store].
func (m *sessionStore) MarkClosing(_ context.Context, hash [32]byte, now, closing, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byHash[hash]
	if s == nil || !now.Before(s.ExpiresAt) {
		return session.ErrNotFound
	}
	s.Closing, s.ExpiresAt = closing, expires
	m.index(expires, hash, false)
	return nil
}

// Delete implements [session.Store].
func (m *sessionStore) Delete(_ context.Context, hash [32]byte) (session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byHash[hash]
	if s == nil {
		return session.Session{}, session.ErrNotFound
	}
	m.deleteSession(hash, true)
	return *s, nil
}

// List implements [session.Store].
func (m *sessionStore) List(_ context.Context, userID string, now time.Time) ([]session.Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []session.Session
	for h := range m.byUser[userID] {
		if s := m.byHash[h]; now.Before(s.ExpiresAt) {
			out = append(out, sessionCopy(s))
		}
	}
	slices.SortFunc(out, func(a, b session.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Revoke implements [session.Store].
func (m *sessionStore) Revoke(_ context.Context, userID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h := range m.byUser[userID] {
		if m.byHash[h].ID == id {
			m.deleteSession(h, true)
			return nil
		}
	}
	return session.ErrNotFound
}

// RevokeUser implements [session.Store].
func (m *sessionStore) RevokeUser(_ context.Context, userID, exceptID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, keep := 0, ""
	for h := range m.byUser[userID] {
		if s := m.byHash[h]; exceptID != "" && s.ID == exceptID {
			keep = s.RememberFamily
			continue
		}
		m.deleteSession(h, false)
		n++
	}
	for f := range m.userFams[userID] {
		if f != keep {
			m.deleteFamily(userID, f)
		}
	}
	return n, nil
}

// CreateRemember implements [session.Store].
func (m *sessionStore) CreateRemember(_ context.Context, r session.Remember) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remember[r.Hash] = &sessionRemember{Remember: r}
	m.index(r.ExpiresAt, r.Hash, true)
	sessionAdd(m.families, r.Family, r.Hash)
	sessionAdd(m.userFams, r.UserID, r.Family)
	return nil
}

// RotateRemember implements [session.Store].
func (m *sessionStore) RotateRemember(_ context.Context, old, next [32]byte, now time.Time) (session.Remember, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.remember[old]
	if r == nil || !now.Before(r.ExpiresAt) {
		return session.Remember{}, session.ErrNotFound
	}
	if r.used {
		m.revokeFamily(r.UserID, r.Family)
		return r.Remember, session.ErrReused
	}
	r.used = true
	n := r.Remember
	n.Hash, n.CreatedAt = next, now
	m.remember[next] = &sessionRemember{Remember: n}
	m.index(n.ExpiresAt, next, true)
	sessionAdd(m.families, n.Family, next)
	return r.Remember, nil
}

// revokeFamily deletes a family and the user's sessions started from it.
func (m *sessionStore) revokeFamily(userID, family string) {
	for h := range m.byUser[userID] {
		if m.byHash[h].RememberFamily == family {
			m.deleteSession(h, false)
		}
	}
	m.deleteFamily(userID, family)
}

// RevokeRemember implements [session.Store].
func (m *sessionStore) RevokeRemember(_ context.Context, hash [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.remember[hash]
	if r == nil {
		return session.ErrNotFound
	}
	m.revokeFamily(r.UserID, r.Family)
	return nil
}

// DeleteExpired implements [session.Cleaner]. It takes records from the
// expiry index in order, so it costs what expired (and stale index
// entries), never a scan of the store, and it releases the write lock
// every [sessionCleanChunk] entries.
func (m *sessionStore) DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	n := 0
	for n < batch {
		k, more := m.deleteExpiredChunk(now, batch-n)
		n += k
		if !more {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteExpiredChunk handles at most sessionCleanChunk index entries under
// one hold of the lock, deleting at most limit records. It reports whether
// expired entries may remain.
func (m *sessionStore) deleteExpiredChunk(now time.Time, limit int) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cut, n := now.UnixMicro(), 0
	for range sessionCleanChunk {
		if len(m.expiries) == 0 || m.expiries[0].at > cut || n >= limit {
			return n, len(m.expiries) > 0 && m.expiries[0].at <= cut
		}
		e := m.expiries.pop()
		if e.remember {
			// The record's expiry never changes; a stale entry is one
			// whose record is gone, or a reissue under the same hash.
			if r := m.remember[e.hash]; r != nil && expiryKey(r.ExpiresAt) == e.at && !now.Before(r.ExpiresAt) {
				m.deleteFamily(r.UserID, r.Family)
				n++
			}
			continue
		}
		// Only the entry matching the session's current expiry counts;
		// earlier ones were superseded by a touch or a mark.
		if s := m.byHash[e.hash]; s != nil && expiryKey(s.ExpiresAt) == e.at && !now.Before(s.ExpiresAt) {
			m.deleteSession(e.hash, false)
			n++
		}
	}
	return n, len(m.expiries) > 0 && m.expiries[0].at <= cut
}

package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a [Keyring]. The zero value means the documented defaults.
type Config struct {
	// PreviousKEKs are tried, in order, after the KEK when a wrapped key does
	// not unwrap, so that processes keep working while [Admin.Rewrap]
	// moves keys from one KEK to another. Default none.
	PreviousKEKs []KEK
	// RefreshInterval is how often the keyring re-reads its keys from the
	// store, so that a rotation, disable or destroy done by another process
	// takes effect here, and how long a cached subject key is trusted.
	// Default 30 s.
	RefreshInterval time.Duration
	// MaxEncryptions is the hard limit of encryptions per data key: Seal
	// returns ErrUsageLimit beyond it. Default 2^32, the limit NIST
	// SP 800-38D section 8.3 sets for AES-GCM with random 96-bit nonces
	// (it keeps the chance of a repeated nonce below 2^-32).
	MaxEncryptions uint64
	// RotateAfterEncryptions is when the keyring advises rotation (an
	// [EventRotationAdvised] and [Admin.RotationAdvice]). Default 2^31,
	// half of MaxEncryptions, leaving room for counts not yet flushed by
	// other processes.
	RotateAfterEncryptions uint64
	// RotateAfterAge advises rotation once the primary key is this old.
	// Default 365 days, well inside the two-year originator-usage period
	// NIST SP 800-57 Part 1 Rev. 5 section 5.3.6 suggests for symmetric
	// data-encryption keys.
	RotateAfterAge time.Duration
	// UsageFlushEvery is how many encryptions a process counts in memory
	// before adding them to the key's stored count. Default 65536: one store
	// write per 65536 Seals; the stored count lags by at most this much per
	// process.
	UsageFlushEvery uint64
	// SubjectCacheSize bounds how many unwrapped subject keys are cached.
	// Default 10000.
	SubjectCacheSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the source of keys and nonces; default crypto/rand.Reader.
	Rand io.Reader
	// Hook, if set, receives key lifecycle events. It is optional (nil
	// means no hook) and called synchronously, so a slow hook slows the
	// call that reports the event (a Seal that advises rotation included).
	// Events carry key ids and subject ids, never key material or
	// plaintext.
	Hook func(context.Context, Event)
}

func (c Config) withDefaults() Config {
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 30 * time.Second
	}
	if c.MaxEncryptions == 0 {
		c.MaxEncryptions = 1 << 32 // NIST SP 800-38D §8.3
	}
	if c.RotateAfterEncryptions == 0 {
		c.RotateAfterEncryptions = c.MaxEncryptions / 2
	}
	if c.RotateAfterAge <= 0 {
		c.RotateAfterAge = 365 * 24 * time.Hour // NIST SP 800-57 Pt 1 §5.3.6
	}
	if c.UsageFlushEvery == 0 {
		c.UsageFlushEvery = 1 << 16
	}
	if c.SubjectCacheSize <= 0 {
		c.SubjectCacheSize = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

// EventType names a key lifecycle event.
type EventType string

// Event types, reported to [Config.Hook].
const (
	EventKeyAdded            EventType = "keyring.key_added"
	EventKeyPromoted         EventType = "keyring.key_promoted"
	EventKeyEnabled          EventType = "keyring.key_enabled"
	EventKeyDisabled         EventType = "keyring.key_disabled"
	EventKeyDestroyed        EventType = "keyring.key_destroyed"
	EventSubjectKeyDestroyed EventType = "keyring.subject_key_destroyed"
	EventRewrapped           EventType = "keyring.rewrapped"
	EventRotationAdvised     EventType = "keyring.rotation_advised"
	EventUsageFlushFailed    EventType = "keyring.usage_flush_failed"
)

// Event is a key lifecycle event, passed to [Config.Hook]. It never carries
// key material or plaintext.
type Event struct {
	Type    EventType
	KeyID   uint32    // the key concerned, if any
	Subject string    // for EventSubjectKeyDestroyed
	Count   uint64    // encryptions, for EventRotationAdvised; keys, for EventRewrapped
	Time    time.Time // from Config.Now, in UTC
}

// usage counts the encryptions of one data key in this process.
type usage struct {
	stored   atomic.Uint64 // count in the store at the last refresh or flush
	pending  atomic.Uint64 // counted here, not yet flushed
	flushing atomic.Bool
	advised  atomic.Bool
}

// dek is an unwrapped data key as cached; immutable once published.
type dek struct {
	id        uint32
	state     State
	aead      cipher.AEAD // nil when disabled or unwrap failed
	err       error       // why aead is nil for an enabled key
	createdAt time.Time
	use       *usage
}

// snapshot is an immutable view of the keyring's keys.
type snapshot struct {
	byID    map[uint32]*dek
	primary *dek
}

// Keyring encrypts and decrypts with versioned data keys kept wrapped in a
// [Store]. Create one with [New]. A Keyring is safe for concurrent use, and
// several Keyrings (in several processes) may share one store.
type Keyring struct {
	store Store
	cfg   Config

	keks atomic.Pointer[[]KEK] // current KEK first, then previous ones

	mu        sync.Mutex // serialises refreshes and snapshot updates
	snap      atomic.Pointer[snapshot]
	refreshAt atomic.Int64 // UnixNano after which the snapshot is re-read
	usage     map[uint32]*usage

	// With the default clock, a runtime timer marks the snapshot stale
	// instead of reading the clock on every call: on shared virtual
	// machines time.Now can cost as much as sealing a small field.
	timerClock bool
	stale      atomic.Bool
	timer      *time.Timer // guarded by mu

	subjects subjectCache
	index    blindIndexKeys
}

// New returns a Keyring over store whose data keys are wrapped by kek. It
// does no I/O: keys are read at first use, and the first Seal on an empty
// store creates the first primary key. It returns an error if store, kek or
// one of Config.PreviousKEKs is nil; a zero Config means the defaults
// documented on its fields.
func New(store Store, kek KEK, cfg Config) (*Keyring, error) {
	if store == nil {
		return nil, errors.New("keyring: nil store")
	}
	if kek == nil {
		return nil, errNilKEK
	}
	for _, p := range cfg.PreviousKEKs {
		if p == nil {
			return nil, errNilKEK
		}
	}
	k := &Keyring{store: store, cfg: cfg.withDefaults(), usage: map[uint32]*usage{}, timerClock: cfg.Now == nil}
	k.stale.Store(true)
	keks := append([]KEK{kek}, cfg.PreviousKEKs...)
	k.keks.Store(&keks)
	k.snap.Store(&snapshot{byID: map[uint32]*dek{}})
	k.subjects.init(k.cfg.SubjectCacheSize)
	return k, nil
}

func (k *Keyring) emit(ctx context.Context, e Event) {
	if k.cfg.Hook != nil {
		e.Time = k.cfg.Now().UTC()
		k.cfg.Hook(ctx, e)
	}
}

// wrap wraps a new key's material under the current KEK.
func (k *Keyring) wrap(ctx context.Context, subject string, id uint32, material []byte) ([]byte, error) {
	w, err := (*k.keks.Load())[0].Wrap(ctx, material, keyAD(subject, id))
	if err != nil {
		return nil, fmt.Errorf("keyring: wrap key: %w", err)
	}
	return w, nil
}

// unwrap tries the current KEK, then the previous ones. It returns which
// one worked (0 = current). If none did, a system failure of any KEK (a
// KMS outage) is reported in preference to ErrWrongKEK, since it may be
// why the right KEK failed.
func (k *Keyring) unwrap(ctx context.Context, key Key) ([]byte, int, error) {
	ad := keyAD(key.Subject, key.ID)
	var sysErr error
	for i, kek := range *k.keks.Load() {
		m, err := kek.Unwrap(ctx, key.Wrapped, ad)
		if err == nil {
			if len(m) != 32 {
				clear(m)
				return nil, 0, ErrWrongKEK
			}
			return m, i, nil
		}
		if sysErr == nil && !errors.Is(err, ErrWrongKEK) {
			sysErr = err
		}
	}
	if sysErr != nil {
		return nil, 0, fmt.Errorf("keyring: unwrap key: %w", sysErr)
	}
	return nil, 0, ErrWrongKEK
}

// unwrapAEAD unwraps a key record into an AES-256-GCM instance.
func (k *Keyring) unwrapAEAD(ctx context.Context, key Key) (cipher.AEAD, error) {
	m, _, err := k.unwrap(ctx, key)
	if err != nil {
		return nil, err
	}
	defer clear(m)
	return newGCM(m)
}

// newMaterial returns 32 random bytes for a new key.
func (k *Keyring) newMaterial() ([]byte, error) {
	m := make([]byte, 32)
	if _, err := io.ReadFull(k.cfg.Rand, m); err != nil {
		return nil, fmt.Errorf("keyring: random key: %w", err)
	}
	return m, nil
}

func (k *Keyring) newID() (uint32, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(k.cfg.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("keyring: random key id: %w", err)
		}
		if id := binary.BigEndian.Uint32(b[:]); id != 0 {
			return id, nil
		}
	}
}

// current returns the snapshot, re-reading the store when it is due.
func (k *Keyring) current(ctx context.Context) (*snapshot, error) {
	if !k.expired() {
		return k.snap.Load(), nil
	}
	return k.refresh(ctx, false)
}

// expired reports whether the snapshot is due for a refresh.
func (k *Keyring) expired() bool {
	if k.timerClock {
		return k.stale.Load()
	}
	return k.cfg.Now().UnixNano() >= k.refreshAt.Load()
}

// scheduleRefresh marks the snapshot fresh until RefreshInterval from now.
// Called with mu held.
func (k *Keyring) scheduleRefresh(now time.Time) {
	k.refreshAt.Store(now.Add(k.cfg.RefreshInterval).UnixNano())
	if !k.timerClock {
		return
	}
	k.stale.Store(false)
	if k.timer == nil {
		k.timer = time.AfterFunc(k.cfg.RefreshInterval, func() { k.stale.Store(true) })
		return
	}
	k.timer.Reset(k.cfg.RefreshInterval)
}

func (k *Keyring) refresh(ctx context.Context, force bool) (*snapshot, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	if !force && !k.expired() {
		return k.snap.Load(), nil // another goroutine refreshed meanwhile
	}
	old := k.snap.Load()
	for _, d := range old.byID {
		k.flushUsage(ctx, d)
	}
	keys, err := k.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys: %w", err)
	}
	next := &snapshot{byID: make(map[uint32]*dek, len(keys))}
	for _, key := range keys {
		if key.ID == 0 {
			continue // the blind-index key
		}
		d := k.buildDEK(ctx, key, old.byID[key.ID])
		next.byID[key.ID] = d
		if d.state == Primary {
			next.primary = d
		}
	}
	k.snap.Store(next)
	k.scheduleRefresh(now)
	return next, nil
}

// buildDEK makes the cache entry for key, reusing prev's cipher.
func (k *Keyring) buildDEK(ctx context.Context, key Key, prev *dek) *dek {
	u := k.usage[key.ID]
	if u == nil {
		u = &usage{}
		k.usage[key.ID] = u
	}
	u.stored.Store(key.Uses)
	d := &dek{id: key.ID, state: key.State, createdAt: key.CreatedAt, use: u}
	if key.State == Disabled {
		return d
	}
	if prev != nil && prev.aead != nil {
		d.aead = prev.aead
		return d
	}
	d.aead, d.err = k.unwrapAEAD(ctx, key)
	return d
}

// lookup finds a key that is not in the snapshot (added by another process
// since the last refresh) with one point read, and adds it.
func (k *Keyring) lookup(ctx context.Context, id uint32) (*dek, error) {
	key, err := k.store.Key(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownKey
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: load key: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.snap.Load()
	if d, ok := old.byID[id]; ok {
		return d, nil
	}
	d := k.buildDEK(ctx, key, nil)
	next := &snapshot{byID: make(map[uint32]*dek, len(old.byID)+1), primary: old.primary}
	for i, v := range old.byID {
		next.byID[i] = v
	}
	// A key read now as primary is newer than the snapshot's primary.
	if d.state == Primary {
		next.primary = d
	}
	next.byID[id] = d
	k.snap.Store(next)
	return d, nil
}

// Seal encrypts plaintext under the primary data key with AES-256-GCM and a
// random 96-bit nonce, binding associatedData (use [AD] for a database
// field; nil is allowed). The result is
//
//	0x01 | key id (4) | nonce (12) | ciphertext | tag (16)
//
// [Overhead] bytes longer than plaintext. On an empty store, the first call
// creates the first primary key. Seal counts encryptions per key and returns
// ErrUsageLimit once the primary reaches Config.MaxEncryptions.
func (k *Keyring) Seal(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	s, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	p := s.primary
	if p == nil {
		if p, err = k.ensurePrimary(ctx); err != nil {
			return nil, err
		}
	}
	if p.aead == nil {
		if p.err == nil {
			return nil, ErrKeyDisabled
		}
		return nil, p.err
	}
	if err := k.count(ctx, p); err != nil {
		return nil, err
	}
	return sealWith(p.aead, k.cfg.Rand, formatKeyring, p.id, plaintext, associatedData)
}

// count records one encryption with d, enforcing the usage limit and
// advising rotation when due.
func (k *Keyring) count(ctx context.Context, d *dek) error {
	u := d.use
	n := u.pending.Add(1)
	total := u.stored.Load() + n
	if total > k.cfg.MaxEncryptions {
		u.pending.Add(^uint64(0))
		return ErrUsageLimit
	}
	if total >= k.cfg.RotateAfterEncryptions && u.advised.CompareAndSwap(false, true) {
		k.emit(ctx, Event{Type: EventRotationAdvised, KeyID: d.id, Count: total})
	}
	if n >= k.cfg.UsageFlushEvery {
		k.flushUsage(ctx, d)
	}
	return nil
}

// flushUsage adds d's pending count to the store. A failure keeps the count
// pending and is reported as an event: it does not fail the encryption.
func (k *Keyring) flushUsage(ctx context.Context, d *dek) {
	u := d.use
	if !u.flushing.CompareAndSwap(false, true) {
		return
	}
	defer u.flushing.Store(false)
	n := u.pending.Swap(0)
	if n == 0 {
		return
	}
	if err := k.store.AddUses(ctx, d.id, n); err != nil {
		u.pending.Add(n)
		k.emit(ctx, Event{Type: EventUsageFlushFailed, KeyID: d.id, Count: n})
		return
	}
	u.stored.Add(n)
}

// flushAll writes this process's pending usage counts to the store and
// reports a failure to do so.
func (k *Keyring) flushAll(ctx context.Context) error {
	for _, d := range k.snap.Load().byID {
		k.flushUsage(ctx, d)
		if d.use.pending.Load() != 0 {
			return fmt.Errorf("keyring: flush usage of key %d failed", d.id)
		}
	}
	return nil
}

// ensurePrimary creates the first primary key on an empty store. When
// several processes race, one AddKey wins and the others use its key.
func (k *Keyring) ensurePrimary(ctx context.Context) (*dek, error) {
	id, err := k.addKey(ctx, Primary)
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return nil, err
	}
	if err == nil {
		k.emit(ctx, Event{Type: EventKeyAdded, KeyID: id})
		k.emit(ctx, Event{Type: EventKeyPromoted, KeyID: id})
	}
	s, err := k.refresh(ctx, true)
	if err != nil {
		return nil, err
	}
	if s.primary == nil {
		return nil, errors.New("keyring: store has no primary key after creating one")
	}
	return s.primary, nil
}

// addKey creates, wraps and stores a new data key in state st.
func (k *Keyring) addKey(ctx context.Context, st State) (uint32, error) {
	m, err := k.newMaterial()
	if err != nil {
		return 0, err
	}
	defer clear(m)
	for attempt := 0; ; attempt++ {
		id, err := k.newID()
		if err != nil {
			return 0, err
		}
		w, err := k.wrap(ctx, "", id, m)
		if err != nil {
			return 0, err
		}
		now := k.cfg.Now().UTC()
		err = k.store.AddKey(ctx, Key{ID: id, State: st, Wrapped: w, CreatedAt: now, UpdatedAt: now})
		// A duplicate id (1 in 2^32 per existing key) is retried with
		// another; a duplicate primary is the caller's to handle.
		if errors.Is(err, ErrDuplicate) && st != Primary && attempt < 3 {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("keyring: add key: %w", err)
		}
		return id, nil
	}
}

// Open decrypts a ciphertext from [Keyring.Seal] with the same
// associatedData. Errors: ErrTruncated, ErrUnknownFormat, ErrUnknownKey,
// ErrKeyDisabled, ErrWrongKEK, ErrAuthFailed (tampered, or other associated
// data), or a wrapped store error. Open never panics on any input.
func (k *Keyring) Open(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	id, err := parseHeader(ciphertext, formatKeyring)
	if err != nil {
		return nil, err
	}
	d, err := k.dataKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return openWith(d.aead, ciphertext, associatedData)
}

// dataKey returns the usable key with the id.
func (k *Keyring) dataKey(ctx context.Context, id uint32) (*dek, error) {
	if id == 0 {
		return nil, ErrUnknownKey
	}
	s, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	d, ok := s.primary, s.primary != nil && s.primary.id == id // the common case
	if !ok {
		d, ok = s.byID[id]
	}
	if !ok {
		if d, err = k.lookup(ctx, id); err != nil {
			return nil, err
		}
	}
	if d.state == Disabled {
		return nil, ErrKeyDisabled
	}
	if d.aead == nil {
		return nil, d.err
	}
	return d, nil
}

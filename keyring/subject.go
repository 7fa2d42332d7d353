package keyring

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"time"
)

// subjectEntry is a cached, unwrapped subject key.
type subjectEntry struct {
	id       uint32
	aead     cipher.AEAD
	loadedAt time.Time
}

// subjectCache is a bounded map of unwrapped subject keys.
type subjectCache struct {
	mu  sync.Mutex
	max int
	m   map[string]subjectEntry
}

func (c *subjectCache) init(max int) { c.max, c.m = max, map[string]subjectEntry{} }

func (c *subjectCache) get(subject string) (subjectEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[subject]
	return e, ok
}

func (c *subjectCache) put(subject string, e subjectEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for s := range c.m { // evict an arbitrary entry
			delete(c.m, s)
			break
		}
	}
	c.m[subject] = e
}

func (c *subjectCache) drop(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, subject)
}

// SealFor encrypts plaintext under the subject's own key (created on first
// use), binding associatedData, for data that must become unreadable when
// the subject is erased: see [Admin.DestroySubjectKey]. The format is
// Seal's with format byte 0x02 and the subject key's id. Open it with
// [Keyring.OpenFor] and the same subject.
//
// Subject keys are not counted against the usage limit and are not
// rotated: they suit per-user data and tenants that seal fewer than about
// 2^31 values over the key's life (NIST SP 800-38D §8.3 allows 2^32 with
// random nonces). For larger volumes, seal with [Keyring.Seal] and erase by
// deleting rows instead.
func (k *Keyring) SealFor(ctx context.Context, subject string, plaintext, associatedData []byte) ([]byte, error) {
	e, err := k.subjectKey(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	return sealWith(e.aead, k.cfg.Rand, formatSubject, e.id, plaintext, associatedData)
}

// OpenFor decrypts a ciphertext from [Keyring.SealFor] for the same subject
// and associatedData. After the subject's key has been destroyed it returns
// ErrUnknownKey. Other errors are as for [Keyring.Open].
func (k *Keyring) OpenFor(ctx context.Context, subject string, ciphertext, associatedData []byte) ([]byte, error) {
	id, err := parseHeader(ciphertext, formatSubject)
	if err != nil {
		return nil, err
	}
	e, err := k.subjectKey(ctx, subject, false)
	if err != nil {
		return nil, err
	}
	if e.id != id {
		// The cached key may be stale (destroyed and recreated elsewhere).
		k.subjects.drop(subject)
		if e, err = k.subjectKey(ctx, subject, false); err != nil {
			return nil, err
		}
		if e.id != id {
			return nil, ErrUnknownKey
		}
	}
	return openWith(e.aead, ciphertext, associatedData)
}

// subjectKey returns the subject's key from the cache (if younger than
// RefreshInterval) or the store, creating it when create is set.
func (k *Keyring) subjectKey(ctx context.Context, subject string, create bool) (subjectEntry, error) {
	if subject == "" {
		return subjectEntry{}, ErrInvalidSubject
	}
	now := k.cfg.Now()
	if e, ok := k.subjects.get(subject); ok && now.Sub(e.loadedAt) < k.cfg.RefreshInterval {
		return e, nil
	}
	key, err := k.store.SubjectKey(ctx, subject)
	switch {
	case errors.Is(err, ErrNotFound) && create:
		if key, err = k.addSubjectKey(ctx, subject); err != nil {
			return subjectEntry{}, err
		}
	case errors.Is(err, ErrNotFound):
		k.subjects.drop(subject)
		return subjectEntry{}, ErrUnknownKey
	case err != nil:
		return subjectEntry{}, fmt.Errorf("keyring: load subject key: %w", err)
	}
	aead, err := k.unwrapAEAD(ctx, key)
	if err != nil {
		return subjectEntry{}, err
	}
	e := subjectEntry{id: key.ID, aead: aead, loadedAt: now}
	k.subjects.put(subject, e)
	return e, nil
}

func (k *Keyring) addSubjectKey(ctx context.Context, subject string) (Key, error) {
	m, err := k.newMaterial()
	if err != nil {
		return Key{}, err
	}
	defer clear(m)
	id, err := k.newID()
	if err != nil {
		return Key{}, err
	}
	w, err := k.wrap(ctx, subject, id, m)
	if err != nil {
		return Key{}, err
	}
	now := k.cfg.Now().UTC()
	key, err := k.store.AddSubjectKey(ctx, Key{Subject: subject, ID: id, State: Primary, Wrapped: w, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return Key{}, fmt.Errorf("keyring: add subject key: %w", err)
	}
	return key, nil
}

// DestroySubjectKey deletes the subject's key (crypto-shredding): every
// ciphertext sealed with [Keyring.SealFor] for the subject, wherever it is
// copied, becomes unreadable. It is idempotent: a subject without a key is
// not an error. Other processes drop their cached copy within
// Config.RefreshInterval.
//
// Backups: a backup of the key store taken before the call still holds the
// key, wrapped by the KEK. Keep key-store backups on a retention no longer
// than your erasure deadline, or [Admin.Rewrap] to a new KEK after erasure
// and retire the old KEK when older key-store backups expire.
func (a *Admin) DestroySubjectKey(ctx context.Context, subject string) error {
	k := a.k
	if subject == "" {
		return ErrInvalidSubject
	}
	k.subjects.drop(subject)
	err := k.store.DeleteSubjectKey(ctx, subject)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("keyring: destroy subject key: %w", err)
	}
	k.subjects.drop(subject) // a concurrent SealFor may have cached it again
	if err == nil {
		k.emit(ctx, Event{Type: EventSubjectKeyDestroyed, Subject: subject})
	}
	return nil
}

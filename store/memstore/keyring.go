package memstore

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/keyring"
)

// keyringStore is an in-memory [keyring.Store]. Every method takes one
// mutex, so each lifecycle rule (one primary, one key per subject) holds
// atomically. Records are copied in and out.
type keyringStore struct {
	mu       sync.Mutex
	keys     map[uint32]keyring.Key // subject ""
	subjects map[string]keyring.Key
}

var _ keyring.Store = (*keyringStore)(nil)

// NewKeyringStore returns an empty in-memory [keyring.Store].
func NewKeyringStore() keyring.Store {
	return &keyringStore{keys: map[uint32]keyring.Key{}, subjects: map[string]keyring.Key{}}
}

func keyringCopy(k keyring.Key) keyring.Key {
	k.Wrapped = bytes.Clone(k.Wrapped)
	return k
}

// Keys implements [keyring.KeyStore].
func (s *keyringStore) Keys(_ context.Context) ([]keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]keyring.Key, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, keyringCopy(k))
	}
	slices.SortFunc(out, func(a, b keyring.Key) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Key implements [keyring.KeyStore].
func (s *keyringStore) Key(_ context.Context, id uint32) (keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return keyring.Key{}, keyring.ErrNotFound
	}
	return keyringCopy(k), nil
}

// AddKey implements [keyring.KeyStore].
func (s *keyringStore) AddKey(_ context.Context, k keyring.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return keyring.ErrDuplicate
	}
	if k.State == keyring.Primary {
		for _, o := range s.keys {
			if o.State == keyring.Primary {
				return keyring.ErrDuplicate
			}
		}
	}
	k.Subject = ""
	s.keys[k.ID] = keyringCopy(k)
	return nil
}

// SetState implements [keyring.KeyStore].
func (s *keyringStore) SetState(_ context.Context, id uint32, st keyring.State, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return keyring.ErrNotFound
	}
	switch {
	case st == keyring.Primary && k.State == keyring.Disabled:
		return keyring.ErrKeyDisabled
	case st == keyring.Primary:
		for oid, o := range s.keys {
			if o.State == keyring.Primary && oid != id {
				o.State, o.UpdatedAt = keyring.Enabled, at
				s.keys[oid] = o
			}
		}
	case k.State == keyring.Primary:
		return keyring.ErrPrimaryKey
	}
	k.State, k.UpdatedAt = st, at
	s.keys[id] = k
	return nil
}

// DestroyKey implements [keyring.KeyAdminStore].
func (s *keyringStore) DestroyKey(_ context.Context, id uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	switch {
	case !ok:
		return keyring.ErrNotFound
	case k.State == keyring.Primary:
		return keyring.ErrPrimaryKey
	case k.State == keyring.Enabled:
		return keyring.ErrKeyEnabled
	}
	delete(s.keys, id)
	return nil
}

// ReplaceWrapped implements [keyring.KeyAdminStore].
func (s *keyringStore) ReplaceWrapped(_ context.Context, subject string, id uint32, oldWrapped, newWrapped []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var k keyring.Key
	var ok bool
	if subject == "" {
		k, ok = s.keys[id]
	} else {
		k, ok = s.subjects[subject]
		ok = ok && k.ID == id
	}
	if !ok || !bytes.Equal(k.Wrapped, oldWrapped) {
		return keyring.ErrNotFound
	}
	k.Wrapped = bytes.Clone(newWrapped)
	if subject == "" {
		s.keys[id] = k
	} else {
		s.subjects[subject] = k
	}
	return nil
}

// AddUses implements [keyring.KeyAdminStore].
func (s *keyringStore) AddUses(_ context.Context, id uint32, n uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		k.Uses += n
		s.keys[id] = k
	}
	return nil
}

// SubjectKey implements [keyring.SubjectKeyStore].
func (s *keyringStore) SubjectKey(_ context.Context, subject string) (keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.subjects[subject]
	if !ok {
		return keyring.Key{}, keyring.ErrNotFound
	}
	return keyringCopy(k), nil
}

// AddSubjectKey implements [keyring.SubjectKeyStore].
func (s *keyringStore) AddSubjectKey(_ context.Context, k keyring.Key) (keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.subjects[k.Subject]; ok {
		return keyringCopy(old), nil
	}
	s.subjects[k.Subject] = keyringCopy(k)
	return keyringCopy(k), nil
}

// DeleteSubjectKey implements [keyring.SubjectKeyStore].
func (s *keyringStore) DeleteSubjectKey(_ context.Context, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subjects[subject]; !ok {
		return keyring.ErrNotFound
	}
	delete(s.subjects, subject)
	return nil
}

// SubjectKeys implements [keyring.SubjectKeyStore].
func (s *keyringStore) SubjectKeys(_ context.Context, after string, limit int) ([]keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []keyring.Key
	for subj, k := range s.subjects {
		if subj > after {
			out = append(out, keyringCopy(k))
		}
	}
	slices.SortFunc(out, func(a, b keyring.Key) int { return strings.Compare(a.Subject, b.Subject) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// mfaStore is the in-memory [mfa.Store]. One mutex guards everything, so
// each method is atomic. Used-step marks are kept until overwritten (one
// per user), which is stricter than the minimum the interface requires.
type mfaStore struct {
	*counters // attempt counters and locks ([mfa.CounterStore])

	mu       sync.Mutex
	totp     map[string]mfa.TOTPRecord
	steps    map[string]int64
	oob      map[mfaOOBKey]mfa.OOBRecord
	recovery map[string][][]byte
	email    map[string]time.Time
}

type mfaOOBKey struct {
	user    string
	purpose mfa.Purpose
}

var _ mfa.Store = (*mfaStore)(nil)

// NewMFAStore returns an empty in-memory [mfa.Store].
func NewMFAStore() mfa.Store {
	return &mfaStore{
		totp:     map[string]mfa.TOTPRecord{},
		steps:    map[string]int64{},
		counters: newCounters(),
		oob:      map[mfaOOBKey]mfa.OOBRecord{},
		recovery: map[string][][]byte{},
		email:    map[string]time.Time{},
	}
}

// PutPendingTOTP implements [mfa.TOTPStore].
func (s *mfaStore) PutPendingTOTP(_ context.Context, rec mfa.TOTPRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.totp[rec.UserID]; ok && !old.ConfirmedAt.IsZero() {
		return mfa.ErrAlreadyEnrolled
	}
	rec.Secret = slices.Clone(rec.Secret)
	s.totp[rec.UserID] = rec
	return nil
}

// GetTOTP implements [mfa.TOTPStore].
func (s *mfaStore) GetTOTP(_ context.Context, userID string) (mfa.TOTPRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.totp[userID]
	if !ok {
		return mfa.TOTPRecord{}, mfa.ErrNotFound
	}
	rec.Secret = slices.Clone(rec.Secret)
	return rec, nil
}

// ConfirmTOTP implements [mfa.TOTPStore].
func (s *mfaStore) ConfirmTOTP(_ context.Context, userID, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.totp[userID]
	if !ok || rec.ID != id || !rec.ConfirmedAt.IsZero() {
		return mfa.ErrNotFound
	}
	rec.ConfirmedAt = at
	s.totp[userID] = rec
	return nil
}

// DeleteTOTP implements [mfa.TOTPStore].
func (s *mfaStore) DeleteTOTP(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.totp[userID]; !ok {
		return mfa.ErrNotFound
	}
	delete(s.totp, userID)
	return nil
}

// MarkStep implements [mfa.StepStore].
func (s *mfaStore) MarkStep(_ context.Context, userID string, step int64, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.steps[userID]; ok && last >= step {
		return false, nil
	}
	s.steps[userID] = step
	return true, nil
}

// PutOOB implements [mfa.OOBStore].
func (s *mfaStore) PutOOB(_ context.Context, rec mfa.OOBRecord, resendAfter time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := mfaOOBKey{rec.UserID, rec.Purpose}
	if old, ok := s.oob[k]; ok && old.ExpiresAt.After(rec.SentAt) && old.SentAt.Add(resendAfter).After(rec.SentAt) {
		return mfa.ErrThrottled
	}
	rec.Salt, rec.Hash = slices.Clone(rec.Salt), slices.Clone(rec.Hash)
	s.oob[k] = rec
	return nil
}

// GetOOB implements [mfa.OOBStore].
func (s *mfaStore) GetOOB(_ context.Context, userID string, purpose mfa.Purpose, now time.Time) (mfa.OOBRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.oob[mfaOOBKey{userID, purpose}]
	if !ok || !rec.ExpiresAt.After(now) {
		return mfa.OOBRecord{}, mfa.ErrNotFound
	}
	rec.Salt, rec.Hash = slices.Clone(rec.Salt), slices.Clone(rec.Hash)
	return rec, nil
}

// DeleteOOB implements [mfa.OOBStore].
func (s *mfaStore) DeleteOOB(_ context.Context, userID string, purpose mfa.Purpose, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := mfaOOBKey{userID, purpose}
	if rec, ok := s.oob[k]; !ok || rec.ID != id {
		return false, nil
	}
	delete(s.oob, k)
	return true, nil
}

// ReplaceRecoveryCodes implements [mfa.RecoveryStore].
func (s *mfaStore) ReplaceRecoveryCodes(_ context.Context, userID string, hashes [][]byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(hashes) == 0 {
		delete(s.recovery, userID)
		return nil
	}
	set := make([][]byte, len(hashes))
	for i, h := range hashes {
		set[i] = slices.Clone(h)
	}
	s.recovery[userID] = set
	return nil
}

// UseRecoveryCode implements [mfa.RecoveryStore].
func (s *mfaStore) UseRecoveryCode(_ context.Context, userID string, hash []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.recovery[userID]
	for i, h := range set {
		if string(h) == string(hash) {
			set = slices.Delete(set, i, i+1)
			s.recovery[userID] = set
			return len(set), nil
		}
	}
	return 0, mfa.ErrNotFound
}

// CountRecoveryCodes implements [mfa.RecoveryStore].
func (s *mfaStore) CountRecoveryCodes(_ context.Context, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recovery[userID]), nil
}

// EnableEmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) EnableEmailFactor(_ context.Context, userID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.email[userID]; !ok {
		s.email[userID] = at
	}
	return nil
}

// EmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) EmailFactor(_ context.Context, userID string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.email[userID]
	if !ok {
		return time.Time{}, mfa.ErrNotFound
	}
	return at, nil
}

// DisableEmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) DisableEmailFactor(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.email[userID]; !ok {
		return mfa.ErrNotFound
	}
	delete(s.email, userID)
	return nil
}

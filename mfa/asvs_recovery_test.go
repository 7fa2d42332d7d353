package mfa_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// recordingStore keeps what the Manager hands the store for recovery
// codes.
type recordingStore struct {
	mfa.Store
	mu     sync.Mutex
	stored [][]byte
}

func (s *recordingStore) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, now time.Time) error {
	s.mu.Lock()
	s.stored = append(s.stored, hashes...)
	s.mu.Unlock()
	return s.Store.ReplaceRecoveryCodes(ctx, userID, hashes, now)
}

// TestRecoveryCodesNeverStoredInClear: ASVS 5.0 6.5.2. Recovery codes
// carry at least 112 bits, so a plain SHA-256 is allowed; what reaches the
// store is 32-byte hashes, never a code or any part of one.
func TestRecoveryCodesNeverStoredInClear(t *testing.T) {
	t.Parallel()
	st := &recordingStore{Store: memstore.NewMFAStore()}
	m := mustNew(t, st, newSealer(t), mfa.Config{})
	codes, err := m.GenerateRecoveryCodes(context.Background(), "u-1")
	require.NoError(t, err)
	require.Len(t, st.stored, len(codes))
	for _, h := range st.stored {
		require.Len(t, h, 32, "a SHA-256 digest")
		for _, c := range codes {
			canon := strings.ToLower(strings.ReplaceAll(c, "-", ""))
			require.NotContains(t, strings.ToLower(string(h)), canon[:8])
		}
	}
	// The codes still work, so the hashes are of the codes.
	left, err := m.UseRecoveryCode(context.Background(), "u-1", codes[0])
	require.NoError(t, err)
	require.Equal(t, len(codes)-1, left)
}

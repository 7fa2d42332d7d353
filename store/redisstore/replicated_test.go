package redisstore_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// startReplicated starts a private primary and its replica, and waits
// until the primary counts the replica in sync.
func startReplicated(t *testing.T) (primary, replica *privateRedis) {
	t.Helper()
	primary = startPrivateRedis(t, 0)
	replica = startPrivateRedis(t, 0, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	pc := primary.client()
	waitFor(t, "the replica to be online", func() bool {
		info, err := pc.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, ",state=online,")
	})
	return primary, replica
}

// A revocation the primary applied but no replica acknowledged returns
// ErrNotReplicated, and the host is told to retry. A retry from another
// instance (another connection) finds nothing left to revoke, so its
// script writes nothing and a bare WAIT would return at once: the retry
// must not report success while the first revocation is still
// unreplicated, or a failover brings the session back after a logout
// the host believes durable.
func TestRevocationRetryWaitsForReplica(t *testing.T) {
	t.Parallel()
	primary, replica := startReplicated(t)
	ctx := context.Background()

	newManager := func() *session.Manager {
		return mustSessions(t, redisstore.New(primary.client(), "w:").Session(), session.Config{})
	}
	a, b := newManager(), newManager()
	iss, err := a.Create(ctx, "user-1", session.Login{})
	require.NoError(t, err)
	// Each instance has its connection and replica count before the replica stops.
	_, err = b.Validate(ctx, iss.Token)
	require.NoError(t, err)
	_, err = b.Create(ctx, "user-2", session.Login{})
	require.NoError(t, err)

	replica.signal(syscall.SIGSTOP)
	defer replica.signal(syscall.SIGCONT)

	require.ErrorIs(t, a.Destroy(ctx, iss.Token), redisstore.ErrNotReplicated)
	// The retries on another instance: the logout, and revocations
	// that find nothing left.
	require.ErrorIs(t, b.Destroy(ctx, iss.Token), redisstore.ErrNotReplicated, "retry of the logout")
	_, err = b.RevokeAll(ctx, "user-1", "")
	require.ErrorIs(t, err, redisstore.ErrNotReplicated, "revoke all after the logout")
}

// A stolen remember-me token presented after its owner used it revokes
// the family and reports EventRememberReuse: the theft signal. When no
// replica acknowledged the family's revocation in time, the report must
// still be made: a retry finds the family gone (not found), so a signal
// dropped with ErrNotReplicated is lost for good.
func TestRememberReuseReportedWhenNotReplicated(t *testing.T) {
	t.Parallel()
	primary, replica := startReplicated(t)
	ctx := context.Background()
	var mu sync.Mutex
	var events []session.EventType
	var storeErrs []error
	m := mustSessions(t, redisstore.New(primary.client(), "w:").Session(), session.Config{
		RememberMe:  true,
		MaxSessions: session.Unlimited,
		OnError: func(_ context.Context, err error) {
			mu.Lock()
			storeErrs = append(storeErrs, err)
			mu.Unlock()
		},
		Hook: func(_ context.Context, e session.Event) {
			mu.Lock()
			events = append(events, e.Type)
			mu.Unlock()
		},
	})
	iss, err := m.Create(ctx, "user-1", session.Login{Remember: true})
	require.NoError(t, err)
	code, _, next := resumeOverHTTP(m, iss.RememberToken)
	require.Equal(t, http.StatusOK, code)
	require.NotEmpty(t, next)

	replica.signal(syscall.SIGSTOP)
	defer replica.signal(syscall.SIGCONT)
	// The owner's own rotation, unacknowledged, is still reported as
	// not replicated: the fix must not turn it into a success.
	code, _, _ = resumeOverHTTP(m, next)
	require.Equal(t, http.StatusUnauthorized, code)
	mu.Lock()
	require.Len(t, storeErrs, 1)
	require.ErrorIs(t, storeErrs[0], redisstore.ErrNotReplicated)
	require.NotContains(t, events, session.EventRememberReuse)
	mu.Unlock()
	code, _, _ = resumeOverHTTP(m, iss.RememberToken) // the thief's copy
	require.Equal(t, http.StatusUnauthorized, code)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, events, session.EventRememberReuse, "reported as reuse")
	require.Len(t, storeErrs, 1, "reuse is not a store error")
}

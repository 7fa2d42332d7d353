package redisstore_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func newMFA(t *testing.T) redisstore.MFAStore {
	c, prefix := testenv.Redis(t)
	return volatileOK(redisstore.New(c, prefix)).MFA()
}

func TestMFAStoreConformance(t *testing.T) {
	t.Parallel()
	// The durable parts come from memstore; the suite checks Redis's own.
	mfatest.Run(t, func(t *testing.T) mfa.Store {
		r, durable := newMFA(t), memstore.NewMFAStore()
		return mfa.Stores{TOTPStore: durable, RecoveryStore: durable, EmailFactorStore: durable, StepStore: r, CounterStore: r, OOBStore: r}
	})
}

// Two app instances with their own Redis clients: a code tried 50 times
// at once across both succeeds exactly once. Enrollments and recovery
// codes sit in one shared in-memory store, standing in for the database.
func TestMFAInstances(t *testing.T) {
	t.Parallel()
	c1, prefix := testenv.Redis(t)
	c2 := redis.NewClient(&redis.Options{Addr: os.Getenv(testenv.EnvRedis), PoolSize: 32})
	t.Cleanup(func() { _ = c2.Close() })
	durable := memstore.NewMFAStore()
	var stores []mfa.Store
	for _, c := range []*redis.Client{c1, c2} {
		r := volatileOK(redisstore.New(c, prefix)).MFA()
		stores = append(stores, mfa.Stores{TOTPStore: durable, RecoveryStore: durable, EmailFactorStore: durable, StepStore: r, CounterStore: r, OOBStore: r})
	}
	mfatest.RunInstances(t, stores...)
}

package redisstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func TestAuthCounterConformance(t *testing.T) {
	t.Parallel()
	authtest.RunCounters(t, func(t *testing.T) auth.CounterStore {
		c, prefix := testenv.Redis(t)
		return redisstore.New(c, prefix).Auth()
	})
}

// TestAuthSharedCounters uses two clients on one Redis, standing for two
// app instances.
func TestAuthSharedCounters(t *testing.T) {
	t.Parallel()
	c1, prefix := testenv.Redis(t)
	c2, _ := testenv.Redis(t)
	authtest.SharedCounters(t, []auth.CounterStore{redisstore.New(c1, prefix).Auth(), redisstore.New(c2, prefix).Auth()})
}

func TestAuthStoreConformance(t *testing.T) {
	t.Parallel()
	authtest.Run(t, func(t *testing.T) auth.Store {
		c, prefix := testenv.Redis(t)
		return redisstore.New(c, prefix).Auth()
	})
}

package redisstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/redisstore"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

var (
	_ storetest.CounterStore = (*redisstore.Counters)(nil)
	_ storetest.TokenStore   = (*redisstore.Tokens)(nil)
)

func newPrimitives(t *testing.T) *redisstore.Store {
	c, prefix := testenv.Redis(t)
	return volatileOK(redisstore.New(c, prefix))
}

func TestCounters(t *testing.T) {
	t.Parallel()
	storetest.TestCounter(t, func(t *testing.T) storetest.CounterStore { return newPrimitives(t).Counters() })
}

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.TestTokens(t, func(t *testing.T) storetest.TokenStore { return newPrimitives(t).Tokens() })
}

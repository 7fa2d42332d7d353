package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

var (
	_ storetest.CounterStore = (*memstore.Counters)(nil)
	_ storetest.TokenStore   = (*memstore.Tokens)(nil)
)

func TestCounters(t *testing.T) {
	t.Parallel()
	storetest.TestCounter(t, func(*testing.T) storetest.CounterStore { return memstore.NewCounters() })
}

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.TestTokens(t, func(*testing.T) storetest.TokenStore { return memstore.NewTokens() })
}

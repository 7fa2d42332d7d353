package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestMFAStoreConformance(t *testing.T) {
	t.Parallel()
	mfatest.Run(t, func(*testing.T) mfa.Store { return memstore.NewMFAStore() })
}

func TestMFAInstances(t *testing.T) {
	t.Parallel()
	s := memstore.NewMFAStore()
	mfatest.RunInstances(t, s, s)
}

package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/org/orgtest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestOrgStoreConformance(t *testing.T) {
	t.Parallel()
	orgtest.Run(t, func(*testing.T) org.Store { return memstore.NewOrgStore() })
}

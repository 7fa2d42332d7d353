package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/retention/retentiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestRetentionStoreConformance(t *testing.T) {
	t.Parallel()
	retentiontest.Run(t, func(*testing.T) retention.Store { return memstore.NewRetentionStore() })
}

package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/audittest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestAuditStoreConformance(t *testing.T) {
	t.Parallel()
	audittest.Run(t, func(t *testing.T) audit.Store { return memstore.NewAuditStore() })
}

package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/keyring/keyringtest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestKeyringStoreConformance(t *testing.T) {
	t.Parallel()
	keyringtest.Run(t, func(*testing.T) keyring.Store { return memstore.NewKeyringStore() })
}

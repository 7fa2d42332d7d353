package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestSessionStoreConformance(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, func(*testing.T) session.Store { return memstore.NewSessionStore() })
}

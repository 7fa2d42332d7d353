package memstore_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestUserStoreConformance(t *testing.T) {
	t.Parallel()
	authtest.RunCredentials(t, func(*testing.T) auth.CredentialStore { return memstore.NewUserStore() })
}

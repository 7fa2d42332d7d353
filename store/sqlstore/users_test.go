package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestUserStoreConformance(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			authtest.RunCredentials(t, func(t *testing.T) auth.CredentialStore {
				st, err := sqlstore.Open(context.Background(), db.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Users()
			})
		})
	}
}

package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/org"
	"github.com/bulwarkhq/bulwark/org/orgtest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestOrgStoreConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			orgtest.Run(t, func(t *testing.T) org.Store {
				st, err := sqlstore.Open(context.Background(), be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Org()
			})
		})
	}
}

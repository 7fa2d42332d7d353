package exporttest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
	"github.com/bulwarkhq/bulwark/export/exporttest"
)

func TestDirSink(t *testing.T) {
	t.Parallel()
	exporttest.RunSink(t, func(t *testing.T) export.Sink {
		s, err := export.NewDirSink(t.TempDir())
		require.NoError(t, err)
		return s
	})
}

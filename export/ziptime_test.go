package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// TestZipEntriesCarryExportTime: zip tools show an entry's MS-DOS date,
// which CreateRaw leaves at zero (1979-11-30) unless it is set.
func TestZipEntriesCarryExportTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	f := newFixture(t, export.Config{Now: func() time.Time { return at }})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: export.Zip})
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.NotEmpty(t, zr.File)
	for _, e := range zr.File {
		require.True(t, e.Modified.Equal(at), "%s: %v", e.Name, e.Modified)
	}
}

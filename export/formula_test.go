package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// Every formula trigger named by the issue (= + - @ tab CR) and by ASVS
// 5.0 1.2.10 (NUL) is neutralised, also behind leading spaces, line feeds
// or a U+FEFF (spreadsheets that trim a cell, or drop a BOM, would still
// see the formula); and the escaping round-trips.
func TestFormulaTriggersAreEscaped(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"=1+1", "+1", "-1", "@SUM(1)", "\tTab", "\rCR", "\x00=1+1",
		" =1+1", "   @SUM(1)", "\n=1+1", " \n +1", "\uFEFF=1+1", "\uFEFF -1",
		"'=1", "'' =1",
	}
	safe := []string{"plain", " plain", "'plain", " 'plain", "\uFEFFplain", "a=1"}

	ex := export.MustNew(export.Config{TempDir: t.TempDir()})
	tb := newTable("v")
	for _, v := range append(append([]string(nil), hostile...), safe...) {
		tb.add("t", []string{v})
	}
	require.NoError(t, ex.Register("m", tb))
	var buf bytes.Buffer
	_, err := ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}, Archive: export.Plain})
	require.NoError(t, err)
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(hostile)+len(safe))
	for i, v := range hostile {
		require.Equal(t, "'"+v, rows[1+i][0], "%q is not neutralised", v)
	}
	for i, v := range safe {
		require.Equal(t, v, rows[1+len(hostile)+i][0], "%q changed", v)
	}

	// The reader undoes the escaping exactly.
	buf.Reset()
	_, err = ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}})
	require.NoError(t, err)
	back := newTable("v")
	im := export.MustNew(export.Config{TempDir: t.TempDir()})
	require.NoError(t, im.Register("m", back))
	_, err = im.Import(context.Background(), &buf, export.ReadOptions{}, export.Scope{Tenant: "t"})
	require.NoError(t, err)
	require.Equal(t, tb.get("t"), back.get("t"))
}

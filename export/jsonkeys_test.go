package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// A JSON Lines record with a huge number of keys must be refused before
// it is decoded into a map: under MaxRecordBytes, a 16 MiB line of short
// keys made a 120 MiB map. Not parallel, to measure allocations alone.
func TestJSONRecordWithTooManyKeys(t *testing.T) {
	var line strings.Builder
	line.WriteString(`{"a":""`)
	for i := 0; line.Len() < 4<<20; i++ {
		fmt.Fprintf(&line, `,"%x":""`, i)
	}
	line.WriteString("}\n")
	file := []byte(line.String())
	sum := sha256.Sum256(file)
	manifest, err := json.Marshal(export.Manifest{
		Format: "bulwark-export", SchemaVersion: export.FormatVersion, Tenant: "t", FileFormat: export.JSONLines,
		Modules: []export.ManifestModule{{Name: "m", File: "m.jsonl", Columns: []string{"a"}, Rows: 1, Bytes: int64(len(file)), SHA256: hex.EncodeToString(sum[:])}},
	})
	require.NoError(t, err)
	archive := writeTar(t, []tarEntry{{"manifest.json", manifest}, {"m.jsonl", file}})

	ex := export.MustNew(export.Config{TempDir: t.TempDir()})
	require.NoError(t, ex.Register("m", newTable("a")))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = ex.Import(context.Background(), bytes.NewReader(archive), export.ReadOptions{}, export.Scope{Tenant: "t"})
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, export.ErrCorrupt)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(24<<20), "the record's keys were decoded into a map")
}

// Verify checks JSON Lines records as Import reads them, so that "Verify
// first, then Import" cannot pass an archive whose second module Import
// then refuses after importing the first.
func TestVerifyChecksJSONRecords(t *testing.T) {
	t.Parallel()
	for _, line := range []string{`{"a":1}`, `{"b":"x"}`, `["x"]`, `{"a":"x","b":"y"}`, `"x"`} {
		file := []byte(line + "\n")
		sum := sha256.Sum256(file)
		manifest, err := json.Marshal(export.Manifest{
			Format: "bulwark-export", SchemaVersion: export.FormatVersion, Tenant: "t", FileFormat: export.JSONLines,
			Modules: []export.ManifestModule{{Name: "m", File: "m.jsonl", Columns: []string{"a"}, Rows: 1, Bytes: int64(len(file)), SHA256: hex.EncodeToString(sum[:])}},
		})
		require.NoError(t, err)
		archive := writeTar(t, []tarEntry{{"manifest.json", manifest}, {"m.jsonl", file}})
		ex := export.MustNew(export.Config{TempDir: t.TempDir()})
		require.NoError(t, ex.Register("m", newTable("a")))
		_, err = ex.Verify(context.Background(), bytes.NewReader(archive), export.ReadOptions{})
		require.ErrorIs(t, err, export.ErrCorrupt, line)
		_, err = ex.Import(context.Background(), bytes.NewReader(archive), export.ReadOptions{}, export.Scope{Tenant: "t"})
		require.ErrorIs(t, err, export.ErrCorrupt, line)
	}
}

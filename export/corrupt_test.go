package export_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

type tarEntry struct {
	name string
	data []byte
}

func readTar(t *testing.T, b []byte) []tarEntry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []tarEntry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out = append(out, tarEntry{h.Name, data})
	}
}

func writeTar(t *testing.T, es []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o600}))
		_, err := tw.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// editManifest rewrites manifest.json through a generic map.
func editManifest(t *testing.T, es []tarEntry, edit func(map[string]any)) []tarEntry {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(es[0].data, &m))
	edit(m)
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	out := append([]tarEntry(nil), es...)
	out[0] = tarEntry{es[0].name, raw}
	return out
}

func TestBadPlainArchives(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	good := readTar(t, buf.Bytes())
	flipped := append([]tarEntry(nil), good...)
	flipped[1] = tarEntry{good[1].name, bytes.Clone(good[1].data)}
	flipped[1].data[40] ^= 0x20

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"flipped data byte", writeTar(t, flipped), export.ErrManifestMismatch},
		{"missing file", writeTar(t, good[:2]), export.ErrManifestMismatch},
		{"extra file", writeTar(t, append(append([]tarEntry(nil), good...), tarEntry{"evil.sh", []byte("x")})), export.ErrManifestMismatch},
		{"swapped files", writeTar(t, []tarEntry{good[0], good[2], good[1]}), export.ErrManifestMismatch},
		{"manifest not first", writeTar(t, []tarEntry{good[1], good[0], good[2]}), export.ErrCorrupt},
		{"version 2", writeTar(t, editManifest(t, good, func(m map[string]any) { m["schema_version"] = 2 })), export.ErrUnknownVersion},
		{"not ours", writeTar(t, editManifest(t, good, func(m map[string]any) { m["format"] = "other" })), export.ErrUnknownVersion},
		{"wrong row count", writeTar(t, editManifest(t, good, func(m map[string]any) {
			m["modules"].([]any)[1].(map[string]any)["rows"] = 2
		})), export.ErrManifestMismatch},
		{"wrong hash", writeTar(t, editManifest(t, good, func(m map[string]any) {
			m["modules"].([]any)[0].(map[string]any)["sha256"] = "00000000000000000000000000000000000000000000000000000000000000ff"
		})), export.ErrManifestMismatch},
		{"wrong columns", writeTar(t, editManifest(t, good, func(m map[string]any) {
			m["modules"].([]any)[1].(map[string]any)["columns"] = []string{"subject", "body"}
		})), export.ErrManifestMismatch},
		{"path traversal name", writeTar(t, editManifest(t, good, func(m map[string]any) {
			mod := m["modules"].([]any)[1].(map[string]any)
			mod["name"], mod["file"] = "../x", "../x.csv"
		})), export.ErrCorrupt},
		{"bad json", writeTar(t, []tarEntry{{"manifest.json", []byte("{")}, good[1], good[2]}), export.ErrCorrupt},
		{"empty", nil, export.ErrCorrupt},
		{"garbage", []byte("hello, this is not an archive at all, not even close......" + string(make([]byte, 1024))), export.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.ex.Verify(context.Background(), bytes.NewReader(tt.data), export.ReadOptions{})
			require.ErrorIs(t, err, tt.want)
		})
	}

	// Truncation anywhere before the end of the last file's data gives a
	// typed error (after it come only padding and the tar trailer, which
	// carry no data; here the last file is under 512 bytes).
	whole := buf.Bytes()
	for n := 0; n < len(whole)-1536; n += 97 {
		_, err := f.ex.Verify(context.Background(), bytes.NewReader(whole[:n]), export.ReadOptions{})
		require.True(t, errors.Is(err, export.ErrCorrupt) || errors.Is(err, export.ErrManifestMismatch), "cut at %d: %v", n, err)
	}
}

func TestBadEncryptedArchives(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id := newIdentity(t)
	keys := export.ReadOptions{Identities: []age.Identity{id}}
	// Enough rows for several 64 KiB chunks.
	big := newTable("n")
	for range 20000 {
		big.add("t1", []string{"some row data"})
	}
	require.NoError(t, f.ex.Register("big", big))
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	whole := buf.Bytes()
	require.Greater(t, len(whole), 3*64<<10)
	hdrEnd := bytes.Index(whole, []byte("\n---")) + 49

	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		cuts := []int{0, 10, hdrEnd - 5, hdrEnd + 8, hdrEnd + 16, hdrEnd + 16 + 64<<10 + 16, len(whole) - 1, len(whole) - 17}
		for n := hdrEnd; n < len(whole); n += 9973 {
			cuts = append(cuts, n)
		}
		for _, n := range cuts {
			_, err := f.ex.Verify(context.Background(), bytes.NewReader(whole[:n]), keys)
			require.ErrorIs(t, err, export.ErrCorrupt, "cut at %d", n)
		}
	})
	t.Run("flipped", func(t *testing.T) {
		t.Parallel()
		for _, at := range []int{hdrEnd - 10, hdrEnd + 3, hdrEnd + 20, hdrEnd + 70000, len(whole) - 1, len(whole) - 20} {
			bad := bytes.Clone(whole)
			bad[at] ^= 0x01
			_, err := f.ex.Verify(context.Background(), bytes.NewReader(bad), keys)
			require.ErrorIs(t, err, export.ErrCorrupt, "flip at %d", at)
		}
	})
	t.Run("trailing data", func(t *testing.T) {
		t.Parallel()
		_, err := f.ex.Verify(context.Background(), bytes.NewReader(append(bytes.Clone(whole), 0)), keys)
		require.ErrorIs(t, err, export.ErrCorrupt)
	})
}

func TestImportRollsBackBadModule(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	es := readTar(t, buf.Bytes())
	es[2].data = bytes.Clone(es[2].data)
	es[2].data[len(es[2].data)-4] ^= 0x20 // last row of notes

	g := newFixture(t, export.Config{})
	_, err = g.ex.Import(context.Background(), bytes.NewReader(writeTar(t, es)), export.ReadOptions{}, export.Scope{Tenant: "t2"})
	require.ErrorIs(t, err, export.ErrManifestMismatch)
	require.Len(t, g.contacts.get("t2"), len(nasty), "the verified module before it is imported")
	require.Empty(t, g.notes.get("t2"), "the bad module sees the error and applies nothing")
}

func TestImportUnknownModule(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)

	ex := export.MustNew(export.Config{})
	contacts := newTable("subject", "name", "phone", "note")
	require.NoError(t, ex.Register("contacts", contacts))
	_, err = ex.Import(context.Background(), &buf, export.ReadOptions{}, export.Scope{Tenant: "t2"})
	require.ErrorIs(t, err, export.ErrUnknownModule)
	require.Empty(t, contacts.get("t2"), "nothing is imported when any module is unknown")
}

func TestImportSchemaChange(t *testing.T) {
	t.Parallel()
	// An archive made with an older schema imports into a module whose
	// columns changed: the importer gets the archive's columns.
	old := export.MustNew(export.Config{TempDir: t.TempDir()})
	v1 := newTable("subject", "name")
	v1.add("t", []string{"alice", "Alice"})
	require.NoError(t, old.Register("people", v1))
	var buf bytes.Buffer
	_, err := old.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}, Format: export.JSONLines})
	require.NoError(t, err)

	cur := export.MustNew(export.Config{TempDir: t.TempDir()})
	v2 := newTable("subject", "email", "name")
	require.NoError(t, cur.Register("people", v2))
	_, err = cur.Import(context.Background(), &buf, export.ReadOptions{}, export.Scope{Tenant: "t"})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"alice", "", "Alice"}}, v2.get("t"))
}

package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"iter"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// A zip's local entries are what this package streams and verifies, but
// zip tools (archive/zip, unzip, Explorer) read the central directory. An
// archive whose central directory names other entries than the verified
// local ones must not verify, or DecryptFile would hand over a "verified"
// archive that extracts unverified data, under any name (zip-slip).
func TestZipCentralDirectoryMustMatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: export.Zip})
	require.NoError(t, err)
	good := buf.Bytes()
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(good), export.ReadOptions{})
	require.NoError(t, err)

	// Append a second zip after the first; archive/zip reads the last end
	// of central directory record, so it sees only the appended entries.
	forged := bytes.NewBuffer(bytes.Clone(good))
	zw := zip.NewWriter(forged)
	zw.SetOffset(int64(len(good)))
	w, err := zw.Create("../../evil.sh")
	require.NoError(t, err)
	_, err = w.Write([]byte("rm -rf ~\n"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	zr, err := zip.NewReader(bytes.NewReader(forged.Bytes()), int64(forged.Len()))
	require.NoError(t, err)
	require.Equal(t, "../../evil.sh", zr.File[0].Name, "the forgery works on archive/zip")

	// A central directory entry that renames a verified local entry.
	renamed := bytes.Clone(good)
	i := bytes.LastIndex(renamed, []byte("PK\x01\x02"))
	require.Positive(t, i)
	nameLen := int(binary.LittleEndian.Uint16(renamed[i+28:]))
	copy(renamed[i+46:i+46+nameLen], bytes.Repeat([]byte("/"), nameLen))

	// A central directory entry that points at other data.
	moved := bytes.Clone(good)
	off := binary.LittleEndian.Uint32(moved[i+42:])
	binary.LittleEndian.PutUint32(moved[i+42:], off+1)

	// Trailing bytes after the end record.
	trailing := append(bytes.Clone(good), 'x')

	id := newIdentity(t)
	for name, data := range map[string][]byte{"appended zip": forged.Bytes(), "renamed": renamed, "moved": moved, "trailing": trailing} {
		_, err := f.ex.Verify(context.Background(), bytes.NewReader(data), export.ReadOptions{})
		require.ErrorIs(t, err, export.ErrCorrupt, name)

		// The same forgery inside age encryption (anyone with the public
		// key can make one) is refused by DecryptFile.
		var enc bytes.Buffer
		aw, err := age.Encrypt(&enc, id.Recipient())
		require.NoError(t, err)
		_, err = io.Copy(aw, bytes.NewReader(data))
		require.NoError(t, err)
		require.NoError(t, aw.Close())
		dir := t.TempDir()
		_, err = f.ex.DecryptFile(context.Background(), dir+"/out.zip", &enc, export.ReadOptions{Identities: []age.Identity{id}})
		require.ErrorIs(t, err, export.ErrCorrupt, name)
		require.Empty(t, dirEntries(t, dir), name)
	}
}

// toZip64 rewrites a small zip's central directory the way archive/zip
// writes it for entries or offsets past 4 GiB: 0xFFFFFFFF in the sizes and
// offset, the values in a zip64 extra field, and zip64 end records. With
// shift, the zip64 offset of the first entry is off by one.
func toZip64(t *testing.T, z []byte, shift bool) []byte {
	t.Helper()
	le := binary.LittleEndian
	eocd := z[len(z)-22:]
	require.Equal(t, uint32(0x06054b50), le.Uint32(eocd))
	start := int(le.Uint32(eocd[16:]))
	out := bytes.Clone(z[:start])
	n := 0
	for p := start; le.Uint32(z[p:]) == 0x02014b50; n++ {
		nameLen, extraLen, commentLen := int(le.Uint16(z[p+28:])), int(le.Uint16(z[p+30:])), int(le.Uint16(z[p+32:]))
		h := bytes.Clone(z[p : p+46])
		csize, usize, off := le.Uint32(h[20:]), le.Uint32(h[24:]), le.Uint32(h[42:])
		if shift && n == 0 {
			off++
		}
		le.PutUint32(h[20:], 0xFFFFFFFF)
		le.PutUint32(h[24:], 0xFFFFFFFF)
		le.PutUint32(h[42:], 0xFFFFFFFF)
		le.PutUint16(h[30:], uint16(extraLen+28))
		out = append(out, h...)
		out = append(out, z[p+46:p+46+nameLen+extraLen]...)
		out = le.AppendUint16(out, 1)
		out = le.AppendUint16(out, 24)
		out = le.AppendUint64(out, uint64(usize))
		out = le.AppendUint64(out, uint64(csize))
		out = le.AppendUint64(out, uint64(off))
		out = append(out, z[p+46+nameLen+extraLen:p+46+nameLen+extraLen+commentLen]...)
		p += 46 + nameLen + extraLen + commentLen
	}
	end64 := len(out)
	out = le.AppendUint32(out, 0x06064b50)
	out = le.AppendUint64(out, 44)
	out = le.AppendUint16(out, 45)
	out = le.AppendUint16(out, 45)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, uint64(n))
	out = le.AppendUint64(out, uint64(n))
	out = le.AppendUint64(out, uint64(end64-start))
	out = le.AppendUint64(out, uint64(start))
	out = le.AppendUint32(out, 0x07064b50)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, uint64(end64))
	out = le.AppendUint32(out, 1)
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint16(out, 0xFFFF)
	out = le.AppendUint16(out, 0xFFFF)
	out = le.AppendUint32(out, 0xFFFFFFFF)
	out = le.AppendUint32(out, 0xFFFFFFFF)
	return le.AppendUint16(out, 0)
}

// Exports past 4 GiB get zip64 central directories; too big to write in a
// test, so a small archive is rewritten into that form.
func TestZip64CentralDirectory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: export.Zip})
	require.NoError(t, err)

	z64 := toZip64(t, buf.Bytes(), false)
	zr, err := zip.NewReader(bytes.NewReader(z64), int64(len(z64)))
	require.NoError(t, err, "archive/zip reads the rewritten archive")
	require.Len(t, zr.File, 3)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(z64), export.ReadOptions{})
	require.NoError(t, err)

	_, err = f.ex.Verify(context.Background(), bytes.NewReader(toZip64(t, buf.Bytes(), true)), export.ReadOptions{})
	require.ErrorIs(t, err, export.ErrCorrupt)
}

// After a tar's end-of-archive blocks only zeros may follow: tar -i (and
// other lenient readers) would extract entries hidden there from a
// "verified" archive.
func TestTarHiddenEntriesAfterEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	hidden := append(bytes.Clone(buf.Bytes()), writeTar(t, []tarEntry{{"../../evil.sh", []byte("rm -rf ~\n")}})...)
	padded := append(bytes.Clone(buf.Bytes()), make([]byte, 10240)...)

	id := newIdentity(t)
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{"hidden": {hidden, export.ErrCorrupt}, "zero padding": {padded, nil}} {
		_, err := f.ex.Verify(context.Background(), bytes.NewReader(tc.data), export.ReadOptions{})
		if tc.want == nil {
			require.NoError(t, err, name)
		} else {
			require.ErrorIs(t, err, tc.want, name)
		}
		var enc bytes.Buffer
		aw, err := age.Encrypt(&enc, id.Recipient())
		require.NoError(t, err)
		_, err = aw.Write(tc.data)
		require.NoError(t, err)
		require.NoError(t, aw.Close())
		dir := t.TempDir()
		_, err = f.ex.DecryptFile(context.Background(), dir+"/out.tar", &enc, export.ReadOptions{Identities: []age.Identity{id}})
		if tc.want == nil {
			require.NoError(t, err, name)
		} else {
			require.ErrorIs(t, err, tc.want, name)
			require.Empty(t, dirEntries(t, dir), name)
		}
	}
}

type panicky struct{}

func (panicky) Columns() []string { return []string{"a"} }
func (panicky) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for range 10000 {
			if !yield([]string{"personal data"}, nil) {
				return
			}
		}
		panic("module bug")
	}
}

// A module that panics (recovered higher up, as net/http does) must not
// leave a partial plaintext export next to the destination either.
func TestExportFilePanicLeavesNothing(t *testing.T) {
	t.Parallel()
	spoolDir, outDir := t.TempDir(), t.TempDir()
	ex := export.MustNew(export.Config{TempDir: spoolDir})
	require.NoError(t, ex.Register("m", panicky{}))
	for _, kind := range []export.ArchiveKind{export.Plain, export.Tar} {
		require.Panics(t, func() {
			_, _ = ex.ExportFile(context.Background(), filepath.Join(outDir, "out"), export.Request{Scope: export.Scope{Tenant: "t"}, Archive: kind})
		})
		require.Empty(t, dirEntries(t, outDir), kind)
		require.Empty(t, dirEntries(t, spoolDir), kind)
	}
}

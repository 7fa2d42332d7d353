package export_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// plainMarker is in every value of the spied modules; no file an
// encrypted export writes may contain it.
const plainMarker = "PLAINTEXT-MARKER-"

// diskSpy reads every file in its directories and fails the test if one
// holds plainMarker (ASVS 5.0 11.7.2: data in use is not written to disk
// in the clear).
type diskSpy struct {
	t     *testing.T
	dirs  []string
	mu    sync.Mutex
	files map[string]int64 // the largest size seen of each file
}

func (d *diskSpy) scan(when string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dir := range d.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			d.t.Errorf("%s: %v", when, err)
			return
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			b, err := os.ReadFile(p)
			if err != nil {
				continue // removed meanwhile
			}
			if bytes.Contains(b, []byte(plainMarker)) {
				d.t.Errorf("%s: %s holds plaintext", when, e.Name())
			}
			d.files[p] = max(d.files[p], int64(len(b)))
		}
	}
}

// spyModule yields rows holding plainMarker and scans the disk while it
// is read (the spools of earlier modules are then complete, its own is
// being written).
type spyModule struct {
	spy  *diskSpy
	name string
	rows int
}

func (m *spyModule) Columns() []string { return []string{"subject", "secret"} }

func (m *spyModule) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for i := range m.rows {
			if i%1000 == 0 {
				m.spy.scan(fmt.Sprintf("reading %s row %d", m.name, i))
			}
			if !yield([]string{fmt.Sprintf("s%d", i%7), fmt.Sprintf("%s%s-%06d", plainMarker, m.name, i)}, nil) {
				return
			}
		}
		m.spy.scan("end of " + m.name)
	}
}

// Import scans the disk while ImportVerified feeds it from its spool.
func (m *spyModule) Import(_ context.Context, _ export.Scope, _ []string, recs iter.Seq2[[]string, error]) error {
	m.spy.scan("importing " + m.name)
	for _, err := range recs {
		if err != nil {
			return err
		}
	}
	return nil
}

// spyWriter scans the disk at every write of the archive, while the
// spools are complete and being copied.
type spyWriter struct {
	spy *diskSpy
	buf bytes.Buffer
}

func (w *spyWriter) Write(p []byte) (int, error) {
	w.spy.scan("copying spools")
	return w.buf.Write(p)
}

// TestSpoolsHoldNoPlaintext inspects every file an encrypted archive
// export writes (its spools in Config.TempDir and, for ExportFile, the
// temporary output beside the destination) while they exist, and the
// spool of ImportVerified, and fails on a row's plaintext in any of them.
func TestSpoolsHoldNoPlaintext(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	for _, tc := range []struct {
		name    string
		archive export.ArchiveKind
		format  export.Format
		toFile  bool
	}{
		{"tar-csv", export.Tar, export.CSV, false},
		{"zip-jsonl", export.Zip, export.JSONLines, false},
		{"tar-csv-file", export.Tar, export.CSV, true},
		{"zip-csv-file", export.Zip, export.CSV, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp, out := t.TempDir(), t.TempDir()
			spy := &diskSpy{t: t, dirs: []string{tmp, out}, files: map[string]int64{}}
			ex := export.MustNew(export.Config{TempDir: tmp})
			// Enough rows for several 64 KiB chunks per spool.
			for _, name := range []string{"contacts", "notes", "events"} {
				require.NoError(t, ex.Register(name, &spyModule{spy: spy, name: name, rows: 6000}))
			}
			req := export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: tc.archive, Format: tc.format, Recipients: []age.Recipient{id.Recipient()}}
			var archive io.Reader
			if tc.toFile {
				path := filepath.Join(out, "backup.age")
				_, err := ex.ExportFile(context.Background(), path, req)
				require.NoError(t, err)
				spy.scan("after ExportFile")
				f, err := os.Open(path)
				require.NoError(t, err)
				defer f.Close()
				archive = f
			} else {
				w := &spyWriter{spy: spy}
				_, err := ex.Export(context.Background(), w, req)
				require.NoError(t, err)
				archive = &w.buf
			}
			// Not vacuous: the spools were seen, and were large.
			spools := 0
			for p, n := range spy.files {
				if filepath.Dir(p) == tmp {
					spools++
					require.Greater(t, n, int64(64<<10), p)
				}
			}
			require.Equal(t, 3, spools, "every module's spool was inspected")
			entries, err := os.ReadDir(tmp)
			require.NoError(t, err)
			require.Empty(t, entries, "spools are removed")
			// And the archive really holds the rows.
			plain, err := ex.Decrypt(context.Background(), archive, export.ReadOptions{Identities: []age.Identity{id}})
			require.NoError(t, err)
			b, err := io.ReadAll(plain)
			require.NoError(t, err)
			require.Contains(t, string(b), plainMarker+"events-005999")

			// ImportVerified spools the decrypted archive: encrypted too.
			itmp := t.TempDir()
			ispy := &diskSpy{t: t, dirs: []string{itmp}, files: map[string]int64{}}
			im := export.MustNew(export.Config{TempDir: itmp})
			for _, name := range []string{"contacts", "notes", "events"} {
				require.NoError(t, im.Register(name, &spyModule{spy: ispy, name: name}))
			}
			_, err = im.ImportVerified(context.Background(), bytes.NewReader(b), export.ReadOptions{}, export.Scope{Tenant: "t2"})
			require.NoError(t, err)
			require.Len(t, ispy.files, 1, "the import spool was inspected")
			for p, n := range ispy.files {
				require.Greater(t, n, int64(3*64<<10), p)
			}
		})
	}
}

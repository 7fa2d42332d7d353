package export_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	id := newIdentity(t)
	id2 := newIdentity(t)
	encs := []struct {
		name string
		req  func(*export.Request)
		keys export.ReadOptions
	}{
		{"plain", func(*export.Request) {}, export.ReadOptions{}},
		{"x25519", func(r *export.Request) { r.Recipients = []age.Recipient{id.Recipient(), id2.Recipient()} }, export.ReadOptions{Identities: []age.Identity{id2}}},
		{"passphrase", func(r *export.Request) { r.Passphrase = "correct horse" }, export.ReadOptions{Passphrase: "correct horse"}},
		{"armor", func(r *export.Request) { r.Recipients = []age.Recipient{id.Recipient()}; r.Armor = true }, export.ReadOptions{Identities: []age.Identity{id}}},
	}
	for _, format := range []export.Format{export.CSV, export.JSONLines} {
		for _, kind := range []export.ArchiveKind{export.Tar, export.Zip} {
			for _, bom := range []bool{false, true} {
				for _, enc := range encs {
					name := string(format) + "/" + string(kind) + "/" + enc.name
					if bom {
						name += "/bom"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						f := newFixture(t, export.Config{})
						req := export.Request{Scope: export.Scope{Tenant: "t1"}, Format: format, Archive: kind, BOM: bom}
						enc.req(&req)
						var buf bytes.Buffer
						m, err := f.ex.Export(context.Background(), &buf, req)
						require.NoError(t, err)
						require.Equal(t, int64(len(nasty)), m.Modules[0].Rows)
						require.Equal(t, int64(3), m.Modules[1].Rows)

						vm, err := f.ex.Verify(context.Background(), bytes.NewReader(buf.Bytes()), enc.keys)
						require.NoError(t, err)
						require.Equal(t, m, vm)

						g := newFixture(t, export.Config{})
						im, err := g.ex.Import(context.Background(), bytes.NewReader(buf.Bytes()), enc.keys, export.Scope{Tenant: "t2"})
						require.NoError(t, err)
						require.Equal(t, m, im)
						require.Equal(t, f.contacts.get("t1"), g.contacts.get("t2"))
						require.Equal(t, f.notes.get("t1"), g.notes.get("t2"))
					})
				}
			}
		}
	}
}

func TestSubjectScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	m, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1", Subject: "alice"}})
	require.NoError(t, err)
	require.Equal(t, "alice", m.Subject)
	require.Equal(t, int64(2), m.Modules[0].Rows)
	require.Equal(t, int64(2), m.Modules[1].Rows)

	g := newFixture(t, export.Config{})
	_, err = g.ex.Import(context.Background(), &buf, export.ReadOptions{}, export.Scope{Tenant: "t9"})
	require.NoError(t, err)
	for _, r := range g.contacts.get("t9") {
		require.Equal(t, "alice", r[0])
	}
	require.Len(t, g.notes.get("t9"), 2)
}

func TestPlainCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    export.Config
		bom    bool
		expect string
	}{
		{"escaped", export.Config{}, false,
			"subject,name,phone,note\r\nalice,'=SUM(A1:A9),'+1 555 0100,plain\r\nalice,''=already quoted,'-5,'@handle\r\n"},
		{"bom", export.Config{}, true,
			"\uFEFFsubject,name,phone,note\r\nalice,'=SUM(A1:A9),'+1 555 0100,plain\r\nalice,''=already quoted,'-5,'@handle\r\n"},
		{"unsafe", export.Config{UnsafeDisableFormulaEscaping: true}, false,
			"subject,name,phone,note\r\nalice,=SUM(A1:A9),+1 555 0100,plain\r\nalice,'=already quoted,-5,@handle\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			var buf bytes.Buffer
			m, err := f.ex.Export(context.Background(), &buf, export.Request{
				Scope: export.Scope{Tenant: "t1", Subject: "alice"}, Modules: []string{"contacts"}, Archive: export.Plain, BOM: tt.bom})
			require.NoError(t, err)
			require.Equal(t, tt.expect, buf.String())
			require.Equal(t, int64(buf.Len()), m.Modules[0].Bytes)
			require.Equal(t, int64(2), m.Modules[0].Rows)
		})
	}
}

func TestCSVParsesAsRFC4180(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{UnsafeDisableFormulaEscaping: true})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Modules: []string{"contacts"}, Archive: export.Plain})
	require.NoError(t, err)
	got, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	want := [][]string{f.contacts.cols}
	for _, r := range nasty {
		// encoding/csv reads \r\n inside a quoted field as \n.
		c := make([]string, len(r))
		for i, v := range r {
			c[i] = strings.ReplaceAll(v, "\r\n", "\n")
		}
		want = append(want, c)
	}
	require.Equal(t, want, got)
}

func TestPlainJSONLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{
		Scope: export.Scope{Tenant: "t1"}, Modules: []string{"notes"}, Archive: export.Plain, Format: export.JSONLines})
	require.NoError(t, err)
	require.Equal(t, `{"subject":"alice","text":"first"}
{"subject":"bob","text":"second"}
{"subject":"alice","text":"=cmd|' /C calc'!A0"}
`, buf.String())
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	t.Parallel()
	ex := export.MustNew(export.Config{TempDir: t.TempDir()})
	tb := newTable("a", "b", "c")
	tb.add("t", []string{"ok\xffbad", "fine", "ok\xffbad"})
	require.NoError(t, ex.Register("m", tb))
	for format, want := range map[export.Format]string{export.CSV: "ok\uFFFDbad", export.JSONLines: `"ok\ufffdbad"`} {
		var buf bytes.Buffer
		_, err := ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}, Archive: export.Plain, Format: format})
		require.NoError(t, err)
		require.Equal(t, 2, strings.Count(buf.String(), want))
	}
	require.Equal(t, "ok\xffbad", tb.get("t")[0][0], "the module's record is not modified")
}

func TestArchiveLayout(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, export.Config{Now: func() time.Time { return now }})
	var tbuf, zbuf bytes.Buffer
	m, err := f.ex.Export(context.Background(), &tbuf, export.Request{Scope: export.Scope{Tenant: "t1"}})
	require.NoError(t, err)
	_, err = f.ex.Export(context.Background(), &zbuf, export.Request{Scope: export.Scope{Tenant: "t1"}, Archive: export.Zip})
	require.NoError(t, err)
	require.Equal(t, now, m.Created)
	require.Equal(t, export.FormatVersion, m.SchemaVersion)
	require.Equal(t, export.Version, m.ExporterVersion)

	tr := tar.NewReader(&tbuf)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		require.Equal(t, int64(0o600), h.Mode)
	}
	require.Equal(t, []string{"manifest.json", "contacts.csv", "notes.csv"}, names)

	// The zip is readable by archive/zip (and so by common unzip tools).
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	require.NoError(t, err)
	names = names[:0]
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		rc, err := zf.Open()
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc) // checks the CRC-32
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
	require.Equal(t, []string{"manifest.json", "contacts.csv", "notes.csv"}, names)
}

func TestKeyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id, other := newIdentity(t), newIdentity(t)
	export1 := func(req export.Request) []byte {
		req.Tenant = "t1"
		var buf bytes.Buffer
		_, err := f.ex.Export(context.Background(), &buf, req)
		require.NoError(t, err)
		return buf.Bytes()
	}
	toID := export1(export.Request{Recipients: []age.Recipient{id.Recipient()}})
	toPass := export1(export.Request{Passphrase: "right"})
	armored := export1(export.Request{Passphrase: "right", Armor: true})
	plain := export1(export.Request{})
	tests := []struct {
		name string
		data []byte
		keys export.ReadOptions
		want error
	}{
		{"wrong identity", toID, export.ReadOptions{Identities: []age.Identity{other}}, export.ErrWrongKey},
		{"passphrase for identity file", toID, export.ReadOptions{Passphrase: "right"}, export.ErrWrongKey},
		{"wrong passphrase", toPass, export.ReadOptions{Passphrase: "wrong"}, export.ErrWrongKey},
		{"wrong passphrase armored", armored, export.ReadOptions{Passphrase: "wrong"}, export.ErrWrongKey},
		{"identity for passphrase file", toPass, export.ReadOptions{Identities: []age.Identity{id}}, export.ErrWrongKey},
		{"no key", toID, export.ReadOptions{}, export.ErrWrongKey},
		{"key for plaintext", plain, export.ReadOptions{Identities: []age.Identity{id}}, export.ErrNotEncrypted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.ex.Verify(context.Background(), bytes.NewReader(tt.data), tt.keys)
			require.ErrorIs(t, err, tt.want)
			require.NotContains(t, err.Error(), "right")
		})
	}
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id := newIdentity(t)
	tests := []struct {
		name string
		req  export.Request
		want error
	}{
		{"no tenant", export.Request{}, export.ErrInvalidRequest},
		{"passphrase and recipients", export.Request{Passphrase: "p", Recipients: []age.Recipient{id.Recipient()}}, export.ErrInvalidRequest},
		{"armor without encryption", export.Request{Armor: true}, export.ErrInvalidRequest},
		{"unknown module", export.Request{Modules: []string{"nope"}}, export.ErrUnknownModule},
		{"duplicate module", export.Request{Modules: []string{"notes", "notes"}}, export.ErrInvalidRequest},
		{"plain with two modules", export.Request{Archive: export.Plain}, export.ErrInvalidRequest},
		{"bad format", export.Request{Format: "xml"}, export.ErrInvalidRequest},
		{"bad archive", export.Request{Archive: "rar"}, export.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name != "no tenant" {
				tt.req.Tenant = "t1"
			}
			_, err := f.ex.Export(context.Background(), io.Discard, tt.req)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	ex := export.MustNew(export.Config{})
	for _, bad := range []string{"", "Upper", "a/b", "../x", "manifest", "_x", strings.Repeat("a", 65), "a.b"} {
		require.ErrorIs(t, ex.Register(bad, newTable("a")), export.ErrInvalidRequest, bad)
	}
	require.ErrorIs(t, ex.Register("dupcols", newTable("a", "a")), export.ErrInvalidRequest)
	require.ErrorIs(t, ex.Register("nocols", newTable()), export.ErrInvalidRequest)
	require.ErrorIs(t, ex.Register("nilmod", nil), export.ErrInvalidRequest)
	require.NoError(t, ex.Register("ok_1-x", newTable("a")))
	require.ErrorIs(t, ex.Register("ok_1-x", newTable("a")), export.ErrInvalidRequest)
	require.Equal(t, []string{"ok_1-x"}, ex.Modules())
}

func TestZeroConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := export.MustNew(export.Config{}).Config()
	require.Equal(t, 18, cfg.ScryptWorkFactor)
	require.Equal(t, 18, cfg.MaxScryptWorkFactor)
	require.Equal(t, 1, cfg.MaxPassphraseOps)
	require.Equal(t, 16<<20, cfg.MaxRecordBytes)
	require.Equal(t, os.TempDir(), cfg.TempDir)
	require.NotNil(t, cfg.Now)
	require.NotNil(t, cfg.Rand)
	require.False(t, cfg.UnsafeDisableFormulaEscaping)
	require.Equal(t, 20, export.MustNew(export.Config{ScryptWorkFactor: 20}).Config().MaxScryptWorkFactor)
	_, err := export.New(export.Config{ScryptWorkFactor: 31})
	require.ErrorIs(t, err, export.ErrInvalidRequest, "a work factor age cannot use is an error, not a panic")
	_, err = export.New(export.Config{MaxScryptWorkFactor: 31})
	require.ErrorIs(t, err, export.ErrInvalidRequest)

	// A zero Config exports and reads back (unencrypted, so no scrypt cost).
	ex := export.MustNew(export.Config{})
	tb := newTable("a")
	tb.add("t", []string{"x"})
	require.NoError(t, ex.Register("m", tb))
	var buf bytes.Buffer
	_, err = ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t"}})
	require.NoError(t, err)
	_, err = ex.Verify(context.Background(), &buf, export.ReadOptions{})
	require.NoError(t, err)
}

func TestProgressAndHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []export.Event
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	f := newFixture(t, export.Config{Now: func() time.Time { return at }, Hook: func(_ context.Context, ev export.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	}})
	big := newTable("n")
	for range 10000 {
		big.add("t1", []string{"0123456789"})
	}
	require.NoError(t, f.ex.Register("big", big))
	var got []export.Progress
	m, err := f.ex.Export(context.Background(), io.Discard, export.Request{
		Scope: export.Scope{Tenant: "t1"}, Modules: []string{"big", "notes"},
		Progress: func(p export.Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.Equal(t, []export.Progress{
		{Module: "big", Rows: 4096, Bytes: 3 + 4096*12},
		{Module: "big", Rows: 8192, Bytes: 3 + 8192*12},
		{Module: "big", Rows: 10000, Bytes: 3 + 10000*12, Done: true},
		{Module: "notes", Rows: 3, Bytes: m.Modules[1].Bytes, Done: true},
	}, got)
	require.Len(t, events, 1)
	require.Equal(t, export.EventExported, events[0].Type)
	require.Equal(t, int64(10003), events[0].Rows)
	require.Equal(t, []string{"big", "notes"}, events[0].Modules)

	var buf bytes.Buffer
	_, err = f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1", Subject: "alice"}, Modules: []string{"notes"}, Passphrase: "secret words"})
	require.NoError(t, err)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(buf.Bytes()), export.ReadOptions{Passphrase: "secret words"})
	require.NoError(t, err)
	_, err = f.ex.Verify(context.Background(), bytes.NewReader(buf.Bytes()), export.ReadOptions{Passphrase: "wrong words"})
	require.ErrorIs(t, err, export.ErrWrongKey)
	require.Len(t, events, 4)
	require.Equal(t, export.Event{Type: export.EventVerified, Time: at.UTC(), Tenant: "t1", Subject: "alice", Modules: []string{"notes"}, Rows: 2, Bytes: events[2].Bytes}, events[2])
	for _, ev := range events {
		require.Equal(t, at.UTC(), ev.Time, "event time comes from Config.Now, in UTC")
	}
	require.Equal(t, export.EventReadFailed, events[3].Type)
	require.ErrorIs(t, events[3].Err, export.ErrWrongKey)
	for _, ev := range events {
		if ev.Err != nil {
			require.NotContains(t, ev.Err.Error(), "words", "no passphrase in events")
		}
	}
}

func TestReadProgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	big := newTable("n")
	for range 10000 {
		big.add("t1", []string{"0123456789"})
	}
	require.NoError(t, f.ex.Register("big", big))
	var buf bytes.Buffer
	m, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Modules: []string{"big", "notes"}, Format: export.JSONLines})
	require.NoError(t, err)
	var got []export.Progress
	_, err = f.ex.Verify(context.Background(), &buf, export.ReadOptions{Progress: func(p export.Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.Len(t, got, 4)
	// Bytes count what has been read from the file, read-ahead included.
	for i, want := range []export.Progress{
		{Module: "big", Rows: 4096}, {Module: "big", Rows: 8192},
		{Module: "big", Rows: 10000, Bytes: m.Modules[0].Bytes, Done: true},
		{Module: "notes", Rows: 3, Bytes: m.Modules[1].Bytes, Done: true},
	} {
		if !want.Done {
			require.Positive(t, got[i].Bytes)
			require.LessOrEqual(t, got[i].Bytes, m.Modules[0].Bytes)
			want.Bytes = got[i].Bytes
		}
		require.Equal(t, want, got[i])
	}
}

// dirEntries lists a directory, for checking that nothing is left behind.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestExportFileAtomic(t *testing.T) {
	t.Parallel()
	boom := errors.New("database on fire")
	tests := []struct {
		name   string
		cancel bool
		fail   error
		want   error
	}{
		{"ok", false, nil, nil},
		{"module fails", false, boom, boom},
		{"cancelled", true, nil, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spoolDir, outDir := t.TempDir(), t.TempDir()
			f := newFixture(t, export.Config{TempDir: spoolDir})
			f.notes.fail = tt.fail
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			path := filepath.Join(outDir, "backup.tar.age")
			_, err := f.ex.ExportFile(ctx, path, export.Request{Scope: export.Scope{Tenant: "t1"}, Passphrase: "p"})
			require.Empty(t, dirEntries(t, spoolDir), "spool files left behind")
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				require.Empty(t, dirEntries(t, outDir))
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{"backup.tar.age"}, dirEntries(t, outDir))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			in, err := os.Open(path)
			require.NoError(t, err)
			defer in.Close()
			_, err = f.ex.Verify(context.Background(), in, export.ReadOptions{Passphrase: "p"})
			require.NoError(t, err)
		})
	}
}

func TestCancelMidExport(t *testing.T) {
	t.Parallel()
	spoolDir, outDir := t.TempDir(), t.TempDir()
	ex := export.MustNew(export.Config{TempDir: spoolDir})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows := 0
	tb := newTable("n")
	for range 20000 {
		tb.add("t", []string{"x"})
	}
	require.NoError(t, ex.Register("m", tb))
	_, err := ex.ExportFile(ctx, filepath.Join(outDir, "out.tar"), export.Request{Scope: export.Scope{Tenant: "t"},
		Progress: func(p export.Progress) {
			rows = int(p.Rows)
			cancel()
		}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 4096, rows, "stops at the first check after cancellation")
	require.Empty(t, dirEntries(t, spoolDir))
	require.Empty(t, dirEntries(t, outDir))
}

func TestDecryptFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, export.Config{})
	id := newIdentity(t)
	var buf bytes.Buffer
	_, err := f.ex.Export(context.Background(), &buf, export.Request{Scope: export.Scope{Tenant: "t1"}, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	dir := t.TempDir()
	out := filepath.Join(dir, "plain.tar")
	_, err = f.ex.DecryptFile(context.Background(), out, bytes.NewReader(buf.Bytes()), export.ReadOptions{Identities: []age.Identity{id}})
	require.NoError(t, err)
	plain, err := os.Open(out)
	require.NoError(t, err)
	defer plain.Close()
	_, err = f.ex.Verify(context.Background(), plain, export.ReadOptions{})
	require.NoError(t, err)

	// A corrupted archive leaves no file behind.
	bad := bytes.Clone(buf.Bytes())
	bad[len(bad)-20] ^= 1
	out2 := filepath.Join(dir, "bad.tar")
	_, err = f.ex.DecryptFile(context.Background(), out2, bytes.NewReader(bad), export.ReadOptions{Identities: []age.Identity{id}})
	require.ErrorIs(t, err, export.ErrCorrupt)
	require.Equal(t, []string{"plain.tar"}, dirEntries(t, dir))
}

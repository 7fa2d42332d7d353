package export

import (
	"archive/tar"
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ArchiveKind is the container of an export.
type ArchiveKind string

// Archive kinds.
const (
	// Tar is a POSIX (PAX) tar archive: manifest.json first, then one
	// file per module. It streams on both ends: `age -d backup.tar.age |
	// tar x` works, and so does [Exporter.Import] on a plain io.Reader.
	Tar ArchiveKind = "tar"
	// Zip is a zip archive with the same entries, stored uncompressed,
	// sizes in the local headers, so Windows and macOS open it and this
	// package reads it as a stream. A module file of 4 GiB or more gets
	// zip64 sizes only in the central directory (archive/zip's raw mode);
	// prefer Tar for exports that large.
	Zip ArchiveKind = "zip"
	// Plain is one module's file on its own (a CSV download), with no
	// archive and no manifest. The request must name exactly one module.
	Plain ArchiveKind = "plain"
)

// manifestName is the name of the manifest entry, always the first entry
// of an archive.
const manifestName = "manifest.json"

// manifestFormat identifies a Bulwark export manifest.
const manifestFormat = "bulwark-export"

// Manifest describes an archive. It is the first entry, manifest.json.
type Manifest struct {
	Format          string           `json:"format"`         // "bulwark-export"
	SchemaVersion   int              `json:"schema_version"` // 1, the layout this package writes and reads
	ExporterVersion string           `json:"exporter_version"`
	Created         time.Time        `json:"created"`
	Tenant          string           `json:"tenant"`
	Subject         string           `json:"subject,omitempty"`
	FileFormat      Format           `json:"file_format"`
	BOM             bool             `json:"bom,omitempty"`
	FormulaEscaped  bool             `json:"formula_escaped,omitempty"`
	Modules         []ManifestModule `json:"modules"`
}

// ManifestModule describes one module's file.
type ManifestModule struct {
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Columns []string `json:"columns"`
	Rows    int64    `json:"rows"`
	Bytes   int64    `json:"bytes"`
	SHA256  string   `json:"sha256"` // hex SHA-256 of the file
}

// Request describes one export.
type Request struct {
	Scope
	// Modules to include, in this order. Empty means every registered
	// module in registration order.
	Modules []string
	// Format of each module's file. Default [CSV].
	Format Format
	// Archive kind. Default [Tar].
	Archive ArchiveKind
	// BOM starts each CSV file with a UTF-8 byte order mark, for Excel.
	BOM bool

	// Recipients encrypts the export in the age v1 format to these
	// recipients (for example age.ParseX25519Recipient("age1...")). An
	// *age.ScryptRecipient here takes one of [Config.MaxPassphraseOps]
	// like a Passphrase, with the work factor set on it.
	Recipients []age.Recipient
	// Passphrase encrypts the export in the age v1 format with scrypt,
	// so that `age -d` asks for it. age does not allow a passphrase
	// together with other recipients; setting both is ErrInvalidRequest.
	Passphrase string
	// Armor writes the encrypted file as ASCII armour (PEM-like text).
	Armor bool

	// Progress, when set, is called synchronously as each module's file
	// is written: every few thousand rows and once with Done set.
	Progress func(Progress)
}

// encrypted reports whether req asks for age encryption.
func (r *Request) encrypted() bool { return len(r.Recipients) > 0 || r.Passphrase != "" }

// progressEvery is how many rows pass between progress callbacks and
// context checks.
const progressEvery = 4096

func (e *Exporter) normalize(req *Request) ([]string, error) {
	if req.Tenant == "" {
		return nil, fmt.Errorf("%w: tenant is required", ErrInvalidRequest)
	}
	if req.Format == "" {
		req.Format = CSV
	}
	if req.Format != CSV && req.Format != JSONLines {
		return nil, fmt.Errorf("%w: format %q", ErrInvalidRequest, req.Format)
	}
	if req.Archive == "" {
		req.Archive = Tar
	}
	if req.Archive != Tar && req.Archive != Zip && req.Archive != Plain {
		return nil, fmt.Errorf("%w: archive %q", ErrInvalidRequest, req.Archive)
	}
	if req.Passphrase != "" && len(req.Recipients) > 0 {
		return nil, fmt.Errorf("%w: age cannot combine a passphrase with other recipients", ErrInvalidRequest)
	}
	if req.Armor && !req.encrypted() {
		return nil, fmt.Errorf("%w: armor needs recipients or a passphrase", ErrInvalidRequest)
	}
	names := req.Modules
	if len(names) == 0 {
		names = e.Modules()
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no modules", ErrInvalidRequest)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := e.module(n); !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownModule, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: module %q listed twice", ErrInvalidRequest, n)
		}
		seen[n] = true
	}
	if req.Archive == Plain && len(names) != 1 {
		return nil, fmt.Errorf("%w: a plain export covers exactly one module", ErrInvalidRequest)
	}
	return names, nil
}

// Export streams an export to w and returns its manifest (for [Plain], a
// manifest describing the single file, which is not written). Memory use
// is constant: records are pulled one at a time, and for an archive each
// module's file is first written to an encrypted temporary file in
// [Config.TempDir] (under a random key held only in memory, removed before
// Export returns) so that its row count and hash are known when the
// manifest is written first.
//
// When ctx is cancelled or a module fails, Export stops promptly and
// returns the error; w may then hold a partial export, so use
// [Exporter.ExportFile] or a [Sink] where a partial file must not appear.
func (e *Exporter) Export(ctx context.Context, w io.Writer, req Request) (*Manifest, error) {
	names, err := e.normalize(&req)
	if err != nil {
		return nil, err
	}
	cw := &countWriter{w: w}
	m, err := e.export(ctx, cw, &req, names)
	ev := Event{Type: EventExported, Tenant: req.Tenant, Subject: req.Subject, Modules: names, Bytes: cw.n}
	if err != nil {
		ev.Type, ev.Err = EventExportFailed, err
	} else {
		for _, mm := range m.Modules {
			ev.Rows += mm.Rows
		}
	}
	e.report(ctx, ev)
	return m, err
}

// ExportFile writes an export to path atomically: into a temporary file in
// the same directory (mode 0600), synced, then renamed over path. A failed
// or cancelled export removes the temporary file and leaves path as it was.
func (e *Exporter) ExportFile(ctx context.Context, path string, req Request) (*Manifest, error) {
	var m *Manifest
	err := writeFileAtomic(path, func(f io.Writer) error {
		var err error
		m, err = e.Export(ctx, f, req)
		return err
	})
	return m, err
}

// writeFileAtomic runs write on a temporary file next to path and renames
// it to path only if write and the sync succeed.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: create temporary file: %w", err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		// Also on a panic (a module's, recovered by the caller): a
		// partial export must not stay next to path.
		if !renamed {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("export: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("export: close: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("export: rename: %w", err)
	}
	renamed = true
	return nil
}

func (e *Exporter) export(ctx context.Context, w io.Writer, req *Request, names []string) (*Manifest, error) {
	m := &Manifest{
		Format:          manifestFormat,
		SchemaVersion:   formatVersion,
		ExporterVersion: exporterVersion,
		Created:         e.cfg.Now().UTC().Truncate(time.Second),
		Tenant:          req.Tenant,
		Subject:         req.Subject,
		FileFormat:      req.Format,
		BOM:             req.BOM && req.Format == CSV,
		FormulaEscaped:  req.Format == CSV && !e.cfg.UnsafeDisableFormulaEscaping,
	}
	if req.Archive == Plain {
		return m, e.withEncryption(ctx, w, req, func(out io.Writer) error {
			mm, err := e.writeModule(ctx, out, req, m, names[0], nil)
			m.Modules = []ManifestModule{mm}
			return err
		})
	}

	spools := make([]*spool, 0, len(names))
	defer func() {
		for _, s := range spools {
			s.remove()
		}
	}()
	for _, name := range names {
		s, err := e.newSpool()
		if err != nil {
			return nil, err
		}
		spools = append(spools, s)
		var crc hash.Hash32
		if req.Archive == Zip {
			crc = crc32.NewIEEE()
		}
		mm, err := e.writeModule(ctx, s.w, req, m, name, crc)
		if err != nil {
			return nil, err
		}
		if err := s.w.Close(); err != nil {
			return nil, fmt.Errorf("export: spool: %w", err)
		}
		if crc != nil {
			s.crc = crc.Sum32()
		}
		if s.size = mm.Bytes; s.plainSize() != s.size {
			return nil, errors.New("export: spool size mismatch")
		}
		m.Modules = append(m.Modules, mm)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return m, e.withEncryption(ctx, w, req, func(out io.Writer) error {
		return writeArchive(ctx, out, req.Archive, m, manifest, spools)
	})
}

// writeModule formats one module's records into w, counting and hashing.
func (e *Exporter) writeModule(ctx context.Context, w io.Writer, req *Request, m *Manifest, name string, crc hash.Hash32) (ManifestModule, error) {
	mod, _ := e.module(name)
	cols := mod.Columns()
	t := &tally{w: w, h: sha256.New(), crc: crc}
	var rw recordWriter
	if req.Format == JSONLines {
		rw = newJSONRecordWriter(t)
	} else {
		c, err := newCSVRecordWriter(t, m.BOM, m.FormulaEscaped)
		if err != nil {
			return ManifestModule{}, err
		}
		rw = c
	}
	mm := ManifestModule{Name: name, File: name + req.Format.ext(), Columns: cols}
	if err := rw.header(cols); err != nil {
		return mm, err
	}
	progress := func(done bool) error {
		if err := rw.flush(); err != nil {
			return err
		}
		if req.Progress != nil {
			req.Progress(Progress{Module: name, Rows: mm.Rows, Bytes: t.n, Done: done})
		}
		return nil
	}
	for rec, err := range mod.Records(ctx, req.Scope) {
		if err != nil {
			return mm, fmt.Errorf("export: module %q: %w", name, err)
		}
		if len(rec) != len(cols) {
			return mm, fmt.Errorf("%w: module %q yielded %d values for %d columns", ErrInvalidRequest, name, len(rec), len(cols))
		}
		if err := rw.record(rec); err != nil {
			return mm, err
		}
		mm.Rows++
		if mm.Rows%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return mm, err
			}
			if err := progress(false); err != nil {
				return mm, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return mm, err
	}
	if err := progress(true); err != nil {
		return mm, err
	}
	mm.Bytes = t.n
	mm.SHA256 = hex.EncodeToString(t.h.Sum(nil))
	return mm, nil
}

// withEncryption runs write on w, or on an age encryptor (and armour) over
// w when req asks for encryption, closing them in order.
func (e *Exporter) withEncryption(ctx context.Context, w io.Writer, req *Request, write func(io.Writer) error) error {
	if !req.encrypted() {
		return write(w)
	}
	recipients := req.Recipients
	if req.Passphrase != "" {
		r, err := age.NewScryptRecipient(req.Passphrase)
		if err != nil {
			return fmt.Errorf("%w: passphrase", ErrInvalidRequest)
		}
		r.SetWorkFactor(e.cfg.ScryptWorkFactor)
		recipients = []age.Recipient{r}
	}
	var aw io.WriteCloser
	dst := w
	if req.Armor {
		aw = armor.NewWriter(w)
		dst = aw
	}
	var ew io.WriteCloser
	var err error
	scrypt := req.Passphrase != ""
	for _, r := range recipients {
		if _, ok := r.(*age.ScryptRecipient); ok {
			scrypt = true // age's own scrypt recipient costs what a Passphrase does
		}
	}
	if scrypt {
		// scrypt runs inside age.Encrypt (it wraps the file key at once);
		// hold a passphrase slot only for that.
		release, aerr := e.acquirePassphrase(ctx)
		if aerr != nil {
			return aerr
		}
		ew, err = age.Encrypt(dst, recipients...)
		release()
	} else {
		ew, err = age.Encrypt(dst, recipients...)
	}
	if err != nil {
		return fmt.Errorf("export: encrypt: %w", err)
	}
	if err := write(ew); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return fmt.Errorf("export: encrypt: %w", err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return fmt.Errorf("export: armor: %w", err)
		}
	}
	return nil
}

func writeArchive(ctx context.Context, w io.Writer, kind ArchiveKind, m *Manifest, manifest []byte, spools []*spool) error {
	var sr *streamReader
	buf := make([]byte, 32<<10)
	copySpool := func(dst io.Writer, s *spool) error {
		r, err := s.reader(sr)
		if err != nil {
			return err
		}
		sr = r
		n, err := io.CopyBuffer(dst, &ctxReader{ctx: ctx, r: r}, buf)
		if err != nil {
			return err
		}
		if n != s.size {
			return fmt.Errorf("export: spool size changed")
		}
		return nil
	}
	switch kind {
	case Zip:
		zw := zip.NewWriter(w)
		add := func(name string, size int64, crc uint32) (io.Writer, error) {
			h := &zip.FileHeader{
				Name: name, Method: zip.Store, Modified: m.Created,
				CRC32: crc, CompressedSize64: uint64(size), UncompressedSize64: uint64(size),
			}
			// CreateRaw, unlike CreateHeader, does not derive the MS-DOS
			// date and time every zip reader shows from Modified: without
			// them the entries were dated 1979-11-30.
			h.ModifiedDate, h.ModifiedTime = msDOSTime(m.Created) //nolint:staticcheck // the fields CreateRaw writes
			return zw.CreateRaw(h)
		}
		fw, err := add(manifestName, int64(len(manifest)), crc32.ChecksumIEEE(manifest))
		if err != nil {
			return err
		}
		if _, err := fw.Write(manifest); err != nil {
			return err
		}
		for i, s := range spools {
			fw, err := add(m.Modules[i].File, s.size, s.crc)
			if err != nil {
				return err
			}
			if err := copySpool(fw, s); err != nil {
				return err
			}
		}
		return zw.Close()
	default:
		tw := tar.NewWriter(w)
		hdr := func(name string, size int64) *tar.Header {
			return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.Created, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(hdr(manifestName, int64(len(manifest)))); err != nil {
			return err
		}
		if _, err := tw.Write(manifest); err != nil {
			return err
		}
		for i, s := range spools {
			if err := tw.WriteHeader(hdr(m.Modules[i].File, s.size)); err != nil {
				return err
			}
			if err := copySpool(tw, s); err != nil {
				return err
			}
		}
		return tw.Close()
	}
}

// spool is a temporary file holding one module's formatted file,
// encrypted under a random key that exists only in memory.
type spool struct {
	f    *os.File
	key  []byte
	w    *streamWriter
	t    *countWriter
	size int64
	crc  uint32
}

func (e *Exporter) newSpool() (*spool, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(e.cfg.Rand, key); err != nil {
		return nil, fmt.Errorf("export: random: %w", err)
	}
	f, err := os.CreateTemp(e.cfg.TempDir, "bulwark-export-*.spool")
	if err != nil {
		return nil, fmt.Errorf("export: spool: %w", err)
	}
	s := &spool{f: f, key: key}
	s.t = &countWriter{w: f}
	s.w, err = newStreamWriter(key, s.t)
	if err != nil {
		s.remove()
		return nil, err
	}
	return s, nil
}

// reader returns a reader of the spool's plaintext, reusing r's buffer.
func (s *spool) reader(r *streamReader) (*streamReader, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if r == nil {
		return newStreamReader(s.key, s.f)
	}
	return r, r.reset(s.key, s.f)
}

// plainSize computes the plaintext size from the ciphertext size.
func (s *spool) plainSize() int64 {
	n := s.t.n
	chunks := (n + streamEncChunk - 1) / streamEncChunk
	return n - chunks*streamOverhead
}

func (s *spool) remove() {
	_ = s.f.Close()
	_ = os.Remove(s.f.Name())
	clear(s.key)
}

// tally counts and hashes what passes through to w.
type tally struct {
	w   io.Writer
	h   hash.Hash
	crc hash.Hash32
	n   int64
}

func (t *tally) Write(p []byte) (int, error) {
	t.h.Write(p)
	if t.crc != nil {
		_, _ = t.crc.Write(p) // hash writes never fail
	}
	n, err := t.w.Write(p)
	t.n += int64(n)
	return n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader fails reads once ctx is done, so long copies stop promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// msDOSTime encodes t (UTC, years 1980 to 2107) as a zip entry's MS-DOS
// date and time, at the format's two-second resolution.
func msDOSTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9) //nolint:gosec // bounded fields
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)     //nolint:gosec // bounded fields
	return date, clock
}

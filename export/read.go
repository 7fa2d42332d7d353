package export

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ReadOptions holds the keys that open an encrypted archive, and an
// optional progress callback. A read with no keys accepts only a plaintext
// archive; a read with keys accepts only an encrypted one
// ([ErrNotEncrypted]).
type ReadOptions struct {
	// Identities, for example from age.ParseX25519Identity. An
	// *age.ScryptIdentity here is treated as a Passphrase: its work factor
	// is capped at [Config.MaxScryptWorkFactor] (on a copy) and it takes
	// one of [Config.MaxPassphraseOps].
	Identities []age.Identity
	// Passphrase, for archives encrypted with one.
	Passphrase string
	// Progress, when set, is called synchronously as each module's file
	// is read: every 4096 rows and once with Done set after the file
	// verified.
	Progress func(Progress)
}

func (k ReadOptions) empty() bool { return len(k.Identities) == 0 && k.Passphrase == "" }

// Limits on attacker-controlled sizes when reading.
const (
	maxManifestBytes = 4 << 20 // a manifest lists names and columns only
	maxHeaderBytes   = 1 << 20 // an age header with hundreds of recipients is ~100 KiB
)

const (
	ageIntro    = "age-encryption.org/v1\n"
	armorIntro  = "-----BEGIN AGE ENCRYPTED FILE-----"
	zipLocalSig = "PK\x03\x04"
)

// Verify decrypts (when keys are given) and checks an archive completely:
// the age authentication of every chunk, the manifest, and every file's
// size, row count, columns and SHA-256 against the manifest. It returns the
// manifest only if everything matches. Memory use is constant.
func (e *Exporter) Verify(ctx context.Context, src io.Reader, keys ReadOptions) (*Manifest, error) {
	m, err := e.read(ctx, src, keys, nil, nil)
	e.reportRead(ctx, EventVerified, m, err)
	return m, err
}

// Decrypt returns a reader of the plaintext of an age-encrypted file (an
// archive, or a [Plain] export), decrypted with one reused buffer. Each
// 64 KiB chunk is authenticated before it is returned, and a truncated or
// extended file fails at its end with [ErrCorrupt]; but nothing checks the
// archive against its manifest, so use [Exporter.Verify] or
// [Exporter.DecryptFile] unless the caller verifies. The reader stops with
// ctx's error once ctx ends.
func (e *Exporter) Decrypt(ctx context.Context, src io.Reader, keys ReadOptions) (io.Reader, error) {
	if keys.empty() {
		return nil, fmt.Errorf("%w: no key given", ErrWrongKey)
	}
	r := &reader{e: e, ctx: ctx, src: &sourceReader{r: src}}
	plain, _, err := r.open(keys)
	if err != nil {
		return nil, err
	}
	return &corruptReader{r: r, in: &ctxReader{ctx: ctx, r: plain}}, nil
}

// corruptReader classifies read errors as reader.corrupt does.
type corruptReader struct {
	r  *reader
	in io.Reader
}

func (c *corruptReader) Read(p []byte) (int, error) {
	n, err := c.in.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = c.r.corrupt(err)
	}
	return n, err
}

// DecryptFile decrypts an archive into path as a plain tar or zip file,
// verifying it as [Exporter.Verify] does. The file appears (atomically, by
// rename) only if the archive verifies.
func (e *Exporter) DecryptFile(ctx context.Context, path string, src io.Reader, keys ReadOptions) (*Manifest, error) {
	var m *Manifest
	err := writeFileAtomic(path, func(f io.Writer) error {
		var err error
		m, err = e.read(ctx, src, keys, f, nil)
		return err
	})
	e.reportRead(ctx, EventVerified, m, err)
	return m, err
}

// Import reads an archive and feeds each module's records to the
// registered module's [Importer], for scope (which need not be the scope
// the archive was made for: a backup can be restored into a new tenant).
//
// Before any record is fed, Import checks the manifest and that every
// module in it is registered and implements Importer ([ErrUnknownModule]).
// Each module's records sequence ends with an error if that file fails
// verification, so an Importer that applies records all-or-nothing never
// commits unverified data. Modules are imported one after the other; if a
// later module fails, earlier ones stay imported. For all-or-nothing
// across modules, use [Exporter.ImportVerified].
func (e *Exporter) Import(ctx context.Context, src io.Reader, keys ReadOptions, scope Scope) (*Manifest, error) {
	if scope.Tenant == "" {
		return nil, fmt.Errorf("%w: tenant is required", ErrInvalidRequest)
	}
	m, err := e.read(ctx, src, keys, nil, e.importVisitor(ctx, scope, true))
	e.reportRead(ctx, EventImported, m, err)
	return m, err
}

// ImportVerified imports an archive only once all of it has verified: no
// record reaches any [Importer] unless every chunk, the manifest and every
// module's file checked out, and every module is importable. It decrypts
// once, so a passphrase archive pays for scrypt once (Verify then Import
// would pay twice).
//
// The first pass decrypts and verifies the archive as [Exporter.Verify]
// does, while writing the plaintext to a spool file in [Config.TempDir]
// encrypted with ChaCha20-Poly1305 under a random key held only in memory
// (as an export's spools are: no plaintext rests on disk). TempDir needs
// room for the whole archive. The second pass reads the spool back,
// checking it again (its authentication and every hash, at disk speed),
// and feeds the modules as [Exporter.Import] does; the spool is removed
// before the call returns. keys.Progress is called during the second pass.
//
// An Importer that fails in the second pass (a host error) stops the
// import; modules before it stay imported. Hosts that need atomicity
// across modules make their Importers write in one transaction that they
// commit after ImportVerified returns nil.
func (e *Exporter) ImportVerified(ctx context.Context, src io.Reader, keys ReadOptions, scope Scope) (*Manifest, error) {
	m, err := e.importVerified(ctx, src, keys, scope)
	e.reportRead(ctx, EventImported, m, err)
	return m, err
}

func (e *Exporter) importVerified(ctx context.Context, src io.Reader, keys ReadOptions, scope Scope) (*Manifest, error) {
	if scope.Tenant == "" {
		return nil, fmt.Errorf("%w: tenant is required", ErrInvalidRequest)
	}
	s, err := e.newSpool()
	if err != nil {
		return nil, err
	}
	defer s.remove()
	verify := keys
	verify.Progress = nil
	if _, err := e.read(ctx, src, verify, s.w, e.importVisitor(ctx, scope, false)); err != nil {
		return nil, err
	}
	if err := s.w.Close(); err != nil {
		return nil, fmt.Errorf("export: spool: %w", err)
	}
	plain, err := s.reader(nil)
	if err != nil {
		return nil, fmt.Errorf("export: spool: %w", err)
	}
	return e.read(ctx, plain, ReadOptions{Progress: keys.Progress}, nil, e.importVisitor(ctx, scope, true))
}

// importVisitor checks that every module of the manifest can be imported
// and, if feed is set, feeds each module's records to its Importer.
func (e *Exporter) importVisitor(ctx context.Context, scope Scope, feed bool) *readVisitor {
	var importers []Importer
	v := &readVisitor{manifest: func(m *Manifest) error {
		for _, mm := range m.Modules {
			mod, ok := e.module(mm.Name)
			imp, isImp := mod.(Importer)
			if !ok || !isImp {
				return fmt.Errorf("%w: %q cannot be imported", ErrUnknownModule, mm.Name)
			}
			importers = append(importers, imp)
		}
		return nil
	}}
	if feed {
		i := 0
		v.module = func(mm *ManifestModule, records iter.Seq2[[]string, error]) error {
			imp := importers[i]
			i++
			if err := imp.Import(ctx, scope, mm.Columns, records); err != nil {
				return fmt.Errorf("export: import module %q: %w", mm.Name, err)
			}
			return nil
		}
	}
	return v
}

func (e *Exporter) reportRead(ctx context.Context, typ EventType, m *Manifest, err error) {
	ev := Event{Type: typ, Err: err}
	if err != nil {
		ev.Type = EventReadFailed
	}
	if m != nil {
		ev.Tenant, ev.Subject = m.Tenant, m.Subject
		for _, mm := range m.Modules {
			ev.Modules = append(ev.Modules, mm.Name)
			ev.Rows += mm.Rows
			ev.Bytes += mm.Bytes
		}
	}
	e.report(ctx, ev)
}

type readVisitor struct {
	manifest func(*Manifest) error
	module   func(*ManifestModule, iter.Seq2[[]string, error]) error
}

// sourceReader remembers the first I/O error of the caller's reader, so
// that a failing source is not reported as a corrupt archive.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// reader holds the state of one read.
type reader struct {
	e        *Exporter
	ctx      context.Context
	src      *sourceReader
	progress func(Progress)
}

// corrupt classifies an error met while parsing the archive.
func (r *reader) corrupt(err error) error {
	switch {
	case err == nil:
		return nil
	case r.ctx.Err() != nil:
		return r.ctx.Err()
	case r.src.err != nil:
		return fmt.Errorf("export: read: %w", r.src.err)
	case errors.Is(err, ErrManifestMismatch), errors.Is(err, ErrUnknownVersion),
		errors.Is(err, ErrWrongKey), errors.Is(err, ErrCorrupt):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

func (e *Exporter) read(ctx context.Context, src io.Reader, keys ReadOptions, plainOut io.Writer, v *readVisitor) (*Manifest, error) {
	r := &reader{e: e, ctx: ctx, src: &sourceReader{r: src}, progress: keys.Progress}
	plain, encrypted, err := r.open(keys)
	if err != nil {
		return nil, err
	}
	var in io.Reader = &ctxReader{ctx: ctx, r: plain}
	var sink *sinkWriter
	if plainOut != nil {
		sink = &sinkWriter{w: plainOut}
		in = io.TeeReader(in, sink)
	}
	m, err := r.archive(in, v)
	if err == nil && (encrypted || plainOut != nil) {
		// Read to the end: the last age chunk authenticates the end of the
		// stream (truncation), and a decrypted copy must be complete.
		if _, cerr := io.Copy(io.Discard, in); cerr != nil {
			err = r.corrupt(cerr)
		}
	}
	if err != nil {
		if sink != nil && sink.err != nil {
			// The copy could not be written (a full disk): the archive
			// is not at fault, and must not be called corrupt.
			return nil, fmt.Errorf("export: write: %w", sink.err)
		}
		return nil, err
	}
	return m, nil
}

// sinkWriter remembers the first error of the writer a decrypted copy goes
// to, which the archive's parser only sees as a failed read.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// open detects age encryption (binary or armoured) and returns the
// plaintext stream.
func (r *reader) open(keys ReadOptions) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r.src, 64<<10)
	peek, err := br.Peek(len(armorIntro))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, r.corrupt(err)
	}
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(peek, []byte(armorIntro)):
		src = armor.NewReader(br)
	case bytes.HasPrefix(peek, []byte(ageIntro)):
	case len(peek) < len(ageIntro):
		return nil, false, fmt.Errorf("%w: only %d bytes", ErrCorrupt, len(peek))
	case damagedIntro(peek):
		return nil, true, damaged(errors.New("not the age v1 intro line"))
	default:
		if !keys.empty() {
			return nil, false, ErrNotEncrypted
		}
		return br, false, nil
	}
	// Parse the header (bounded, and before the keys are looked at, so a
	// damaged one is reported as such) through a recorder, so the bytes age's parser read
	// ahead are not lost: the payload starts right after the header.
	rec := &recorder{r: src, max: maxHeaderBytes}
	hdr, err := age.ExtractHeader(rec)
	if err != nil {
		return nil, true, r.corrupt(damaged(err))
	}
	if !bytes.HasPrefix(rec.buf, hdr) {
		return nil, true, r.corrupt(damaged(errors.New("not canonical")))
	}
	if keys.empty() {
		return nil, true, fmt.Errorf("%w: the archive is encrypted and no key was given", ErrWrongKey)
	}
	// age's own scrypt identities given among Identities cost what a
	// Passphrase does: cap their work factor (on a copy: the caller's may
	// be shared) and take a passphrase slot for them too.
	ids := make([]age.Identity, 0, len(keys.Identities)+1)
	scrypt := keys.Passphrase != ""
	for _, id := range keys.Identities {
		if sid, ok := id.(*age.ScryptIdentity); ok && sid != nil {
			c := *sid
			c.SetMaxWorkFactor(r.e.cfg.MaxScryptWorkFactor)
			id, scrypt = &c, true
		}
		ids = append(ids, id)
	}
	if keys.Passphrase != "" {
		id, err := age.NewScryptIdentity(keys.Passphrase)
		if err != nil {
			return nil, true, fmt.Errorf("%w: empty passphrase", ErrWrongKey)
		}
		id.SetMaxWorkFactor(r.e.cfg.MaxScryptWorkFactor)
		ids = append(ids, id)
	}

	var fileKey []byte
	if scrypt {
		release, aerr := r.e.acquirePassphrase(r.ctx)
		if aerr != nil {
			return nil, true, aerr
		}
		fileKey, err = age.DecryptHeader(hdr, ids...)
		release()
	} else {
		fileKey, err = age.DecryptHeader(hdr, ids...)
	}
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, true, ErrWrongKey
		}
		return nil, true, r.corrupt(damaged(err))
	}
	payload := io.MultiReader(bytes.NewReader(rec.buf[len(hdr):]), src)
	nonce := make([]byte, streamNonceLen)
	if _, err := io.ReadFull(payload, nonce); err != nil {
		return nil, true, r.corrupt(fmt.Errorf("age nonce: %w", err))
	}
	key, err := streamPayloadKey(fileKey, nonce)
	clear(fileKey)
	if err != nil {
		return nil, true, err
	}
	sr, err := newStreamReader(key, payload)
	clear(key)
	if err != nil {
		return nil, true, err
	}
	return sr, true, nil
}

// damaged wraps a fault of the age header as [ErrDamagedHeader] and
// [ErrCorrupt].
func damaged(err error) error {
	return fmt.Errorf("%w (%w): %w", ErrDamagedHeader, ErrCorrupt, err)
}

// damagedIntro reports whether a file's first bytes are a damaged age or
// armour intro line rather than something else: within a few edits
// (flipped, dropped or added bytes) of one, or age's intro with another
// version, in any letter case. A tar archive starts with a file name and a zip archive with
// "PK", far from both.
func damagedIntro(peek []byte) bool {
	low := bytes.ToLower(peek[:min(len(peek), len(armorIntro)+3)])
	if bytes.HasPrefix(low, []byte("age-encryption.org/")) {
		return true
	}
	for _, intro := range []string{ageIntro, armorIntro} {
		n := min(len(low), len(intro)+3)
		if editDistance(low[:n], strings.ToLower(intro), 4) <= 4 {
			return true
		}
	}
	return false
}

// editDistance returns the least Levenshtein distance between the intro
// line b and a prefix of a (the file goes on after its intro), capped at
// limit+1. The inputs are a few dozen bytes.
func editDistance(a []byte, b string, limit int) int {
	// prev[j] is the distance between a[:i] and b[:j].
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	best := min(limit+1, prev[len(b)])
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		best = min(best, cur[len(b)])
		prev, cur = cur, prev
	}
	return best
}

// recorder keeps every byte read through it, up to max.
type recorder struct {
	r   io.Reader
	buf []byte
	max int
}

func (c *recorder) Read(p []byte) (int, error) {
	if len(c.buf) >= c.max {
		return 0, errors.New("age header too large")
	}
	p = p[:min(len(p), c.max-len(c.buf))]
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// entries iterates over the files of a tar or zip archive.
type entries interface {
	// next returns the next regular file, or io.EOF after the last.
	// hint is the size the manifest expects, or -1.
	next(hint int64) (name string, size int64, body io.Reader, err error)
}

type tarEntries struct {
	tr   *tar.Reader
	r    io.Reader // under tr
	done bool
}

func (t *tarEntries) next(int64) (string, int64, io.Reader, error) {
	if t.done {
		return "", 0, nil, io.EOF
	}
	h, err := t.tr.Next()
	if errors.Is(err, io.EOF) {
		// Only zeros may follow the end-of-archive blocks: a lenient
		// reader (tar -i) would extract entries hidden after them.
		t.done = true
		if err := tarZerosToEnd(t.r); err != nil {
			return "", 0, nil, err
		}
		return "", 0, nil, io.EOF
	}
	if err != nil {
		return "", 0, nil, err
	}
	if h.Typeflag != tar.TypeReg {
		return "", 0, nil, fmt.Errorf("%w: tar entry %q is not a regular file", ErrCorrupt, h.Name)
	}
	return h.Name, h.Size, t.tr, nil
}

// tarZerosToEnd reads r to its end and fails unless every byte is zero.
func tarZerosToEnd(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("%w: data after the end of the tar archive", ErrCorrupt)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (r *reader) archive(in io.Reader, v *readVisitor) (*Manifest, error) {
	br := bufio.NewReaderSize(in, 32<<10)
	peek, err := br.Peek(len(zipLocalSig))
	if err != nil {
		return nil, r.corrupt(err)
	}
	var ents entries
	if string(peek) == zipLocalSig {
		ents = &zipEntries{r: br}
	} else {
		ents = &tarEntries{tr: tar.NewReader(br), r: br}
	}

	name, size, body, err := ents.next(-1)
	if err != nil {
		return nil, r.corrupt(err)
	}
	if name != manifestName {
		return nil, fmt.Errorf("%w: first entry is %q, not %s", ErrCorrupt, name, manifestName)
	}
	if size > maxManifestBytes {
		return nil, fmt.Errorf("%w: manifest too large", ErrCorrupt)
	}
	raw, err := io.ReadAll(io.LimitReader(body, size))
	if err != nil {
		return nil, r.corrupt(err)
	}
	if int64(len(raw)) != size {
		return nil, r.corrupt(io.ErrUnexpectedEOF)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	if v != nil && v.manifest != nil {
		if err := v.manifest(m); err != nil {
			return nil, err
		}
	}
	for i := range m.Modules {
		mm := &m.Modules[i]
		name, size, body, err := ents.next(mm.Bytes)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s is missing", ErrManifestMismatch, mm.File)
		}
		if err != nil {
			return nil, r.corrupt(err)
		}
		if name != mm.File || size != mm.Bytes {
			return nil, fmt.Errorf("%w: entry %d is %q (%d bytes), manifest says %q (%d bytes)",
				ErrManifestMismatch, i+1, name, size, mm.File, mm.Bytes)
		}
		if err := r.module(m, mm, io.LimitReader(body, size), v); err != nil {
			return nil, err
		}
	}
	if name, _, _, err := ents.next(-1); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, r.corrupt(err)
		}
		return nil, fmt.Errorf("%w: unexpected entry %q", ErrManifestMismatch, name)
	}
	return m, nil
}

// module reads one module's file, handing its records to v.
func (r *reader) module(m *Manifest, mm *ManifestModule, body io.Reader, v *readVisitor) error {
	h := sha256.New()
	tee := &hashReader{r: body, h: h}
	var rows int64
	var parseErr error
	used := false
	records := func(yield func([]string, error) bool) {
		if used {
			yield(nil, errors.New("export: records sequence read twice"))
			return
		}
		used = true
		for rec, err := range r.parse(m, mm, tee, v != nil && v.module != nil) {
			if err != nil {
				parseErr = err
				yield(nil, err)
				return
			}
			rows++
			if r.progress != nil && rows%progressEvery == 0 {
				r.progress(Progress{Module: mm.Name, Rows: rows, Bytes: tee.n})
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := r.finish(mm, tee, h, rows); err != nil {
			parseErr = err
			yield(nil, err)
			return
		}
		if r.progress != nil {
			r.progress(Progress{Module: mm.Name, Rows: rows, Bytes: tee.n, Done: true})
		}
	}
	var visitErr error
	if v != nil && v.module != nil {
		visitErr = v.module(mm, records)
	}
	if !used {
		for _, err := range records {
			if err != nil {
				break
			}
		}
	}
	if parseErr != nil {
		return parseErr
	}
	if visitErr != nil {
		return visitErr
	}
	if tee.n != mm.Bytes || rows != mm.Rows {
		// The visitor stopped early: read the rest and verify anyway.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return r.corrupt(err)
		}
		if err := r.finish(mm, tee, h, mm.Rows); err != nil {
			return err
		}
	}
	return nil
}

// finish checks a fully read file against the manifest.
func (r *reader) finish(mm *ManifestModule, tee *hashReader, h hash.Hash, rows int64) error {
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return r.corrupt(err)
	}
	if tee.n != mm.Bytes {
		return r.corrupt(io.ErrUnexpectedEOF)
	}
	want, _ := hex.DecodeString(mm.SHA256)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return fmt.Errorf("%w: SHA-256 of %s", ErrManifestMismatch, mm.File)
	}
	if rows != mm.Rows {
		return fmt.Errorf("%w: %s has %d rows, manifest says %d", ErrManifestMismatch, mm.File, rows, mm.Rows)
	}
	return nil
}

type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (t *hashReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.h.Write(p[:n])
	t.n += int64(n)
	return n, err
}

// parse yields the records of one file (not the header row). Without
// values a CSV file is only checked (syntax, field counts) and counted,
// allocating nothing per record; JSON records are always decoded.
func (r *reader) parse(m *Manifest, mm *ManifestModule, in io.Reader, values bool) iter.Seq2[[]string, error] {
	if m.FileFormat == JSONLines {
		return r.parseJSON(mm, in)
	}
	return r.parseCSV(m, mm, in, values)
}

func (r *reader) parseCSV(m *Manifest, mm *ManifestModule, in io.Reader, values bool) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		cr := newCSVReader(in, len(mm.Columns), r.e.cfg.MaxRecordBytes)
		if m.BOM {
			bom, err := cr.r.Peek(len(utf8BOM))
			if err != nil || string(bom) != utf8BOM {
				yield(nil, r.corrupt(fmt.Errorf("%s: missing byte order mark", mm.File)))
				return
			}
			_, _ = cr.r.Discard(len(utf8BOM))
		}
		first := true
		for {
			rec, err := cr.read()
			if errors.Is(err, io.EOF) {
				if first {
					yield(nil, r.corrupt(fmt.Errorf("%s: no header row", mm.File)))
				}
				return
			}
			if err != nil {
				yield(nil, r.corrupt(fmt.Errorf("%s: %w", mm.File, err)))
				return
			}
			if m.FormulaEscaped && !cr.skipValues {
				for i, f := range rec {
					rec[i] = unescapeFormula(f)
				}
			}
			if first {
				first = false
				if !slices.Equal(rec, mm.Columns) {
					yield(nil, fmt.Errorf("%w: %s header row differs from manifest columns", ErrManifestMismatch, mm.File))
					return
				}
				cr.skipValues = !values
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

func (r *reader) parseJSON(mm *ManifestModule, in io.Reader) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64<<10), r.e.cfg.MaxRecordBytes)
		obj := make(map[string]string, len(mm.Columns))
		out := make([]string, len(mm.Columns))
		line := 0
		for sc.Scan() {
			line++
			// Every record is decoded, also when only verifying: Verify
			// must refuse what Import would refuse (a number, a missing
			// or unknown key), or "Verify, then Import" is not
			// all-or-nothing.
			if n := jsonColons(sc.Bytes()); n != len(mm.Columns) {
				// Checked before decoding, so a line of many short keys
				// cannot build a map many times its size.
				yield(nil, r.corrupt(fmt.Errorf("%s line %d: %d keys for %d columns", mm.File, line, n, len(mm.Columns))))
				return
			}
			clear(obj)
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				yield(nil, r.corrupt(fmt.Errorf("%s line %d: %w", mm.File, line, err)))
				return
			}
			if len(obj) != len(mm.Columns) {
				yield(nil, r.corrupt(fmt.Errorf("%s line %d: %d keys for %d columns", mm.File, line, len(obj), len(mm.Columns))))
				return
			}
			for i, c := range mm.Columns {
				val, ok := obj[c]
				if !ok {
					yield(nil, r.corrupt(fmt.Errorf("%s line %d: missing column %q", mm.File, line, c)))
					return
				}
				out[i] = val
			}
			if !yield(out, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(nil, r.corrupt(fmt.Errorf("%s: %w", mm.File, err)))
		}
	}
}

// jsonColons counts the colons outside strings in a JSON text: the number
// of keys of a flat object.
func jsonColons(b []byte) int {
	n, in, esc := 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && c == ':':
			n++
		}
	}
	return n
}

// ParseManifest decodes and validates a manifest.json. It returns
// [ErrUnknownVersion] for a file that is not a Bulwark export manifest of
// schema version 1 (the only one this package knows), and [ErrCorrupt]
// for a malformed one.
func ParseManifest(raw []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrCorrupt, err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("%w: not a %s manifest", ErrUnknownVersion, manifestFormat)
	}
	if m.SchemaVersion != formatVersion {
		return nil, fmt.Errorf("%w: schema_version %d, this reader knows %d", ErrUnknownVersion, m.SchemaVersion, formatVersion)
	}
	bad := func(why string, a ...any) (*Manifest, error) {
		return nil, fmt.Errorf("%w: manifest: %s", ErrCorrupt, fmt.Sprintf(why, a...))
	}
	if m.FileFormat != CSV && m.FileFormat != JSONLines {
		return bad("file_format %q", m.FileFormat)
	}
	if m.Tenant == "" {
		return bad("no tenant")
	}
	if len(m.Modules) == 0 {
		return bad("no modules")
	}
	seen := map[string]bool{}
	for _, mm := range m.Modules {
		if !validModuleName(mm.Name) || seen[mm.Name] {
			return bad("module name %q", mm.Name)
		}
		seen[mm.Name] = true
		if mm.File != mm.Name+m.FileFormat.ext() {
			return bad("file %q for module %q", mm.File, mm.Name)
		}
		if err := validColumns(mm.Columns); err != nil {
			return bad("module %q: %v", mm.Name, err)
		}
		if mm.Rows < 0 || mm.Bytes < 0 {
			return bad("module %q: negative count", mm.Name)
		}
		if h, err := hex.DecodeString(mm.SHA256); err != nil || len(h) != sha256.Size {
			return bad("module %q: sha256", mm.Name)
		}
	}
	return &m, nil
}

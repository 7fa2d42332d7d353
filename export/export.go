package export

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// exporterVersion is the exporter version written into every manifest
// (Manifest.ExporterVersion).
const exporterVersion = "0.1.0"

// formatVersion is the version of the archive layout and manifest schema
// this package writes (Manifest.SchemaVersion). Readers reject any other
// value with [ErrUnknownVersion].
const formatVersion = 1

// Errors. Each is returned wrapped with context (a file name, a reason that
// never contains record data, keys or passphrases); test with errors.Is.
var (
	// ErrWrongKey: no identity or passphrase given to a read matches the
	// encrypted archive, or none was given for an encrypted archive.
	ErrWrongKey = errors.New("export: wrong passphrase or identity")
	// ErrCorrupt: the archive is damaged or truncated: a bad age header or
	// payload chunk, a malformed tar or zip, a malformed manifest or record.
	ErrCorrupt = errors.New("export: corrupted or truncated archive")
	// ErrManifestMismatch: the archive is well formed but its files
	// disagree with its manifest (hash, row count, size, columns, missing or
	// extra files).
	ErrManifestMismatch = errors.New("export: archive does not match its manifest")
	// ErrUnknownVersion: the manifest's format_version is not
	// 1, the only version this package writes and reads, or the file is
	// not a Bulwark export.
	ErrUnknownVersion = errors.New("export: unknown format version")
	// ErrNotEncrypted: keys were given to a read, but the archive is not
	// encrypted. A restore that expects an encrypted backup must not
	// silently accept a plaintext one, which anybody could have forged.
	// (age does not authenticate the sender either: anybody who has an
	// X25519 recipient, a public key, can make an archive that verifies.)
	ErrNotEncrypted = errors.New("export: archive is not encrypted")
	// ErrDamagedHeader: the file is an age file whose header is damaged:
	// its first line is close to, but not, the age v1 (or armour) intro
	// line, or the header after it does not parse or authenticate. It
	// also matches [ErrCorrupt], and never [ErrNotEncrypted]: a damaged
	// encrypted backup is not a plaintext one.
	ErrDamagedHeader = errors.New("export: damaged age header")
	// ErrUnknownModule: a request or an archive names a module that is
	// not registered (or, for imports, has no Import method).
	ErrUnknownModule = errors.New("export: unknown module")
	// ErrInvalidRequest: a request or registration is malformed (bad
	// module name, mixed passphrase and recipients, missing tenant, ...),
	// or a module yielded a record whose length differs from its columns.
	// Each is a mistake in the calling code, never in the data read.
	ErrInvalidRequest = errors.New("export: invalid request")
)

// Scope says whose data an export covers. Tenant is required. With Subject
// empty the export covers the whole tenant (a backup); with Subject set it
// covers everything about one person (a GDPR article 15 access or article
// 20 portability request), and each module must return only that person's
// records.
type Scope struct {
	Tenant  string
	Subject string
}

// Module is one source of records that the host registers: contacts,
// notes, invoices, ...
//
// Records must yield each record as a slice with one value per column, in
// the order of Columns, and stop with an error (yielded as the second
// value) on failure. The exporter does not keep a record after the yield
// returns, so the module may reuse the slice. Records is called once per
// export with the export's context; a module should stop when ctx is done
// or when yield returns false. Rows are pulled one at a time, so no
// module is ever loaded whole; in a [Plain] export a slow destination
// slows the module down (backpressure), while an archive export pulls
// each module into its spool file at disk speed.
type Module interface {
	Columns() []string
	Records(ctx context.Context, scope Scope) iter.Seq2[[]string, error]
}

// Importer is implemented by modules that can take records back in, for
// [Exporter.Import].
//
// Import receives the columns recorded in the archive (which may be an
// older schema than the module's current Columns) and the records. The
// sequence may end with a non-nil error as its last element: a hash or row
// count mismatch is only known once the whole file has been read. Import
// must therefore apply the records all-or-nothing (in one transaction,
// committed only after the sequence ends without error) and return that
// error. Each record slice is reused for the next record: copy it to keep
// it.
type Importer interface {
	Import(ctx context.Context, scope Scope, columns []string, records iter.Seq2[[]string, error]) error
}

// Event is reported to [Config.Hook]. It never carries record data, keys
// or passphrases.
type Event struct {
	Type    EventType
	Time    time.Time // from Config.Now, in UTC
	Tenant  string
	Subject string   // empty for tenant-wide operations
	Modules []string // module names covered
	Rows    int64
	Bytes   int64  // archive bytes written or read
	Name    string // backup name, for backup events
	Err     error  // the failure, for failure events
}

// EventType names an [Event].
type EventType string

// Event types, of the form "export.<verb>".
const (
	EventExported     EventType = "export.completed"
	EventExportFailed EventType = "export.failed"
	EventVerified     EventType = "export.verified"
	EventImported     EventType = "export.imported"
	EventReadFailed   EventType = "export.read_failed"
	EventBackedUp     EventType = "export.backup_completed"
	EventBackupFailed EventType = "export.backup_failed"
	EventBackupPruned EventType = "export.backup_pruned"
)

// Progress is passed to a progress callback while a module is exported or
// read. Rows and Bytes count the current module's file so far.
type Progress struct {
	Module string
	Rows   int64
	Bytes  int64
	Done   bool // the module's file is complete
}

// Config configures an [Exporter]. The zero value means the defaults given
// on each field.
type Config struct {
	// Now is the clock for manifest creation times. Default time.Now.
	Now func() time.Time
	// Rand is the randomness source for temporary-file keys. Default
	// crypto/rand.Reader.
	Rand io.Reader
	// TempDir holds the encrypted spool files an archive export writes
	// while it counts and hashes each module. Default os.TempDir().
	TempDir string

	// ScryptWorkFactor is log2 of the scrypt cost for passphrase
	// encryption. Default 18, age's own default: about 1 s and 256 MiB
	// here (ASVS 11.4.4: keys derived from passwords only with a
	// key-stretching KDF whose cost resists brute force; RFC 7914).
	ScryptWorkFactor int
	// MaxScryptWorkFactor caps the work factor accepted when decrypting,
	// since it is chosen by whoever made the file: 2^22 would cost 4 GiB.
	// Default max(18, ScryptWorkFactor).
	MaxScryptWorkFactor int
	// MaxPassphraseOps caps concurrent scrypt operations (passphrase
	// encryption or decryption) across this Exporter; others wait, or
	// give up when their context ends. Default 1: each costs 256 MiB at
	// the default work factor, so a burst of requests must queue rather
	// than exhaust memory.
	MaxPassphraseOps int
	// MaxRecordBytes caps one record when reading an archive, so a hostile
	// file cannot make the reader buffer without bound. Default 16 MiB.
	MaxRecordBytes int

	// UnsafeDisableFormulaEscaping turns off CSV formula-injection
	// neutralising (OWASP "CSV Injection", ASVS 5.0 1.2.10). Default
	// false: a cell starting with = + - @ tab CR or NUL, also after
	// leading spaces, line feeds or U+FEFF, is prefixed with a single
	// quote.
	UnsafeDisableFormulaEscaping bool

	// Hook, when set, receives an [Event] for each completed or failed
	// export, read and backup. It is optional (nil means no hook) and
	// called synchronously, so a slow hook slows the call that reports.
	Hook func(context.Context, Event)
}

// Defaults, documented with their reasons on the [Config] fields.
const (
	defaultScryptWorkFactor = 18       // age's default, ~1 s and 256 MiB
	defaultMaxPassphraseOps = 1        // one 256 MiB scrypt at a time
	defaultMaxRecordBytes   = 16 << 20 // 16 MiB per record when reading
	maxScryptWorkFactor     = 30       // the largest age accepts (2^30: 128 GiB)
)

// Exporter writes and reads exports of the registered modules. It is safe
// for concurrent use; register every module before the first export.
type Exporter struct {
	cfg     Config
	sem     chan struct{}
	mu      sync.RWMutex
	modules map[string]Module
	order   []string
}

// New returns an Exporter with cfg's zero fields set to their defaults; a
// zero Config is valid. It returns an error wrapping [ErrInvalidRequest]
// for a work factor above 30, which age cannot use.
func New(cfg Config) (*Exporter, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.ScryptWorkFactor <= 0 {
		cfg.ScryptWorkFactor = defaultScryptWorkFactor
	}
	if cfg.MaxScryptWorkFactor <= 0 {
		cfg.MaxScryptWorkFactor = max(defaultScryptWorkFactor, cfg.ScryptWorkFactor)
	}
	if cfg.MaxPassphraseOps <= 0 {
		cfg.MaxPassphraseOps = defaultMaxPassphraseOps
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = defaultMaxRecordBytes
	}
	if cfg.ScryptWorkFactor > maxScryptWorkFactor || cfg.MaxScryptWorkFactor > maxScryptWorkFactor {
		return nil, fmt.Errorf("%w: scrypt work factor above %d", ErrInvalidRequest, maxScryptWorkFactor)
	}
	return &Exporter{
		cfg:     cfg,
		sem:     make(chan struct{}, cfg.MaxPassphraseOps),
		modules: map[string]Module{},
	}, nil
}

// Register adds a module under name, which becomes its file name in the
// archive (name.csv or name.jsonl). A name is 1 to 64 characters of
// a-z, 0-9, '_' and '-', starting with a letter or digit; "manifest" is
// reserved. Columns must be non-empty, valid UTF-8 and unique. Register
// returns [ErrInvalidRequest] otherwise, or when name is taken.
func (e *Exporter) Register(name string, m Module) error {
	if !validModuleName(name) {
		return fmt.Errorf("%w: module name %q", ErrInvalidRequest, name)
	}
	if m == nil {
		return fmt.Errorf("%w: nil module %q", ErrInvalidRequest, name)
	}
	if err := validColumns(m.Columns()); err != nil {
		return fmt.Errorf("%w: module %q: %w", ErrInvalidRequest, name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.modules[name]; dup {
		return fmt.Errorf("%w: module %q registered twice", ErrInvalidRequest, name)
	}
	e.modules[name] = m
	e.order = append(e.order, name)
	return nil
}

// Modules returns the registered module names in registration order.
func (e *Exporter) Modules() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.order)
}

func (e *Exporter) module(name string) (Module, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	m, ok := e.modules[name]
	return m, ok
}

func validModuleName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name == "manifest" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func validColumns(cols []string) error {
	if len(cols) == 0 {
		return errors.New("no columns")
	}
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		if c == "" || !utf8.ValidString(c) {
			return errors.New("empty or invalid UTF-8 column name")
		}
		if seen[c] {
			return fmt.Errorf("duplicate column %q", c)
		}
		seen[c] = true
	}
	return nil
}

// acquirePassphrase takes one of the MaxPassphraseOps slots, or returns
// ctx's error once ctx is done.
func (e *Exporter) acquirePassphrase(ctx context.Context) (release func(), err error) {
	select {
	case e.sem <- struct{}{}:
		return func() { <-e.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *Exporter) report(ctx context.Context, ev Event) {
	if e.cfg.Hook != nil {
		ev.Time = e.cfg.Now().UTC()
		e.cfg.Hook(ctx, ev)
	}
}

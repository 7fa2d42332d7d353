package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Sink stores backup files for [Backups]. It is shaped for object storage
// (S3, GCS, Azure Blob): Put is an upload from a stream, List a prefix
// listing, Delete a delete; [NewDirSink] stores them in a directory.
//
// Implementations must be safe for concurrent use.
type Sink interface {
	// Put stores everything read from r under name. It must be atomic: if
	// reading r fails (the export failed or was cancelled) or ctx ends, Put
	// returns an error and no object called name appears (abort the
	// multipart upload; write to a temporary name and rename).
	Put(ctx context.Context, name string, r io.Reader) error
	// List returns the names that start with prefix, in any order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes name. Deleting a missing name is not an error.
	Delete(ctx context.Context, name string) error
}

// dirSink is the [Sink] [NewDirSink] returns.
type dirSink struct {
	dir string
}

var _ Sink = (*dirSink)(nil)

// NewDirSink returns a [Sink] that keeps backups as files in dir, creating
// it with mode 0700 if needed. Put writes a hidden temporary file, syncs it
// and renames it into place, so a crash or failure never leaves a partial
// backup under a backup's name; List does not list hidden (temporary)
// files.
func NewDirSink(dir string) (Sink, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export: sink directory: %w", err)
	}
	return &dirSink{dir: dir}, nil
}

// validObjectName accepts names made by Backups: no path separators, not
// hidden (temporary files are), printable ASCII.
func validObjectName(name string) bool {
	if name == "" || len(name) > 255 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

// Put implements [Sink].
func (d *dirSink) Put(ctx context.Context, name string, r io.Reader) error {
	if !validObjectName(name) {
		return fmt.Errorf("%w: object name %q", ErrInvalidRequest, name)
	}
	path := filepath.Join(d.dir, name)
	err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.Copy(w, &ctxReader{ctx: ctx, r: r})
		return err
	})
	if err != nil {
		return err
	}
	// Make the rename durable.
	if dir, err := os.Open(d.dir); err == nil {
		_ = dir.Sync()
		_ = dir.Close()
	}
	return nil
}

// List implements [Sink]. Hidden (temporary) files are not listed.
func (d *dirSink) List(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("export: list sink: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && validObjectName(n) && strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	return names, nil
}

// Delete implements [Sink].
func (d *dirSink) Delete(_ context.Context, name string) error {
	if !validObjectName(name) {
		return fmt.Errorf("%w: object name %q", ErrInvalidRequest, name)
	}
	if err := os.Remove(filepath.Join(d.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export: delete from sink: %w", err)
	}
	return nil
}

// BackupConfig configures [Backups]. Zero fields mean the defaults given.
type BackupConfig struct {
	// Request is the export to run. Its Tenant is required and its Subject
	// must be empty (a backup covers the whole tenant). It must encrypt
	// (Recipients or Passphrase) unless UnsafeAllowPlaintext is set.
	// Progress is ignored.
	Request Request
	// Interval between backups. Default 24 hours.
	Interval time.Duration
	// RetryInterval is the wait after a failed backup. Default Interval/8.
	RetryInterval time.Duration
	// Keep is how many of the newest backups to keep; older ones are
	// deleted after each successful backup. Default 7.
	Keep int
	// Prefix starts every backup name. Default "bulwark-<tenant>", which
	// needs a tenant id of letters, digits, '_' and '-'; set Prefix
	// otherwise. Names are Prefix + "-" + UTC time + extension, so they
	// sort by time.
	Prefix string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// After waits; tests inject a fake. Default time.After.
	After func(time.Duration) <-chan time.Time
	// UnsafeAllowPlaintext allows unencrypted backups.
	UnsafeAllowPlaintext bool
}

// Default backup settings, documented on [BackupConfig].
const (
	defaultBackupInterval = 24 * time.Hour // a daily backup
	defaultBackupKeep     = 7              // a week of daily backups
)

// backupTimeLayout is fixed width, so names sort by time.
const backupTimeLayout = "20060102T150405.000Z"

// Backups runs scheduled, encrypted tenant backups into a [Sink] and keeps
// the newest [BackupConfig.Keep]. It is safe for concurrent use, but run
// only one Run loop per tenant and sink.
type Backups struct {
	ex   *Exporter
	sink Sink
	cfg  BackupConfig
	ext  string
}

// NewBackups checks cfg, applies its defaults and returns a Backups.
func NewBackups(ex *Exporter, sink Sink, cfg BackupConfig) (*Backups, error) {
	if ex == nil || sink == nil {
		return nil, fmt.Errorf("%w: nil exporter or sink", ErrInvalidRequest)
	}
	req := &cfg.Request
	if req.Tenant == "" || req.Subject != "" {
		return nil, fmt.Errorf("%w: a backup needs a tenant and no subject", ErrInvalidRequest)
	}
	if !req.encrypted() && !cfg.UnsafeAllowPlaintext {
		return nil, fmt.Errorf("%w: backups must be encrypted (set Recipients or Passphrase)", ErrInvalidRequest)
	}
	if _, err := ex.normalize(req); err != nil {
		return nil, err
	}
	if req.Archive == Plain {
		return nil, fmt.Errorf("%w: a backup must be an archive", ErrInvalidRequest)
	}
	req.Progress = nil
	if cfg.Interval <= 0 {
		cfg.Interval = defaultBackupInterval
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = cfg.Interval / 8
	}
	if cfg.Keep <= 0 {
		cfg.Keep = defaultBackupKeep
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "bulwark-" + req.Tenant
	}
	if !validObjectName(cfg.Prefix+"-x") || strings.ContainsAny(cfg.Prefix, ".") || len(cfg.Prefix) > 128 {
		return nil, fmt.Errorf("%w: backup prefix %q (set BackupConfig.Prefix)", ErrInvalidRequest, cfg.Prefix)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	ext := "." + string(req.Archive)
	if req.encrypted() {
		ext += ".age"
	}
	return &Backups{ex: ex, sink: sink, cfg: cfg, ext: ext}, nil
}

// RunOnce makes one backup now, then deletes all but the newest Keep. It
// returns the new backup's name; if only the pruning failed, it returns
// the name and the error.
func (b *Backups) RunOnce(ctx context.Context) (string, error) {
	name := b.cfg.Prefix + "-" + b.cfg.Now().UTC().Format(backupTimeLayout) + b.ext
	ev := Event{Type: EventBackedUp, Tenant: b.cfg.Request.Tenant, Name: name}
	err := b.put(ctx, name, &ev)
	if err != nil {
		ev.Type, ev.Err = EventBackupFailed, err
		b.ex.report(ctx, ev)
		return "", err
	}
	b.ex.report(ctx, ev)
	return name, b.prune(ctx)
}

func (b *Backups) put(ctx context.Context, name string, ev *Event) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		m, err := b.ex.export(ctx, pw, &b.cfg.Request, b.names())
		if err == nil {
			ev.Modules = nil
			for _, mm := range m.Modules {
				ev.Modules = append(ev.Modules, mm.Name)
				ev.Rows += mm.Rows
			}
		}
		_ = pw.CloseWithError(err) // nil err closes with EOF
		done <- err
	}()
	putErr := b.sink.Put(ctx, name, pr)
	_ = pr.CloseWithError(errSinkStopped)
	cancel()
	exportErr := <-done
	if putErr != nil && (errors.Is(exportErr, errSinkStopped) || errors.Is(exportErr, context.Canceled)) {
		exportErr = nil // the sink failed first; report its error
	}
	if exportErr != nil {
		if putErr == nil {
			// The sink ignored the read error; do not keep a partial backup.
			_ = b.sink.Delete(context.WithoutCancel(ctx), name)
		}
		return exportErr
	}
	if putErr != nil {
		return fmt.Errorf("export: store backup: %w", putErr)
	}
	return nil
}

var errSinkStopped = errors.New("export: sink stopped reading")

// names resolves the request's modules at run time, so modules registered
// after NewBackups are included when Request.Modules is empty.
func (b *Backups) names() []string {
	if len(b.cfg.Request.Modules) > 0 {
		return b.cfg.Request.Modules
	}
	return b.ex.Modules()
}

// list returns this schedule's backup names, oldest first, and their times.
func (b *Backups) list(ctx context.Context) ([]string, []time.Time, error) {
	all, err := b.sink.List(ctx, b.cfg.Prefix+"-")
	if err != nil {
		return nil, nil, fmt.Errorf("export: list backups: %w", err)
	}
	var names []string
	for _, n := range all {
		if _, ok := b.parseName(n); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	times := make([]time.Time, len(names))
	for i, n := range names {
		times[i], _ = b.parseName(n)
	}
	return names, times, nil
}

func (b *Backups) parseName(n string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(n, b.cfg.Prefix+"-")
	if !ok {
		return time.Time{}, false
	}
	rest, ok = strings.CutSuffix(rest, b.ext)
	if !ok || len(rest) != len(backupTimeLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(backupTimeLayout, rest)
	return t, err == nil
}

func (b *Backups) prune(ctx context.Context) error {
	names, _, err := b.list(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names[:max(0, len(names)-b.cfg.Keep)] {
		if err := b.sink.Delete(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		b.ex.report(ctx, Event{Type: EventBackupPruned, Tenant: b.cfg.Request.Tenant, Name: n})
	}
	return errors.Join(errs...)
}

// Run makes backups every Interval until ctx ends, then returns ctx's
// error. The first backup is due Interval after the newest one already in
// the sink (at once if there is none), so restarts neither skip nor
// repeat backups. A failed backup is reported to [Config.Hook] and retried
// after RetryInterval.
func (b *Backups) Run(ctx context.Context) error {
	for {
		_, times, err := b.list(ctx)
		switch {
		case err != nil:
			b.ex.report(ctx, Event{Type: EventBackupFailed, Tenant: b.cfg.Request.Tenant, Err: err})
			err = b.wait(ctx, b.cfg.RetryInterval)
		case len(times) > 0:
			due := times[len(times)-1].Add(b.cfg.Interval)
			if wait := due.Sub(b.cfg.Now()); wait > 0 {
				err = b.wait(ctx, wait)
			} else if _, runErr := b.RunOnce(ctx); runErr != nil {
				err = b.wait(ctx, b.cfg.RetryInterval)
			}
		default:
			if _, runErr := b.RunOnce(ctx); runErr != nil {
				err = b.wait(ctx, b.cfg.RetryInterval)
			}
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// wait sleeps for d on the injected clock, or returns ctx's error.
func (b *Backups) wait(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.cfg.After(d):
		return nil
	}
}

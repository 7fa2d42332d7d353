package export

// Test-only accessors, reachable from the external export_test package
// because this file is compiled into the same test binary.

// FormatVersion is the manifest schema version this package writes.
const FormatVersion = formatVersion

// MustNew is New for tests: it panics on a configuration error.
func MustNew(cfg Config) *Exporter {
	e, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return e
}

// Config returns the configuration in effect, defaults applied.
func (e *Exporter) Config() Config { return e.cfg }

// Config returns the configuration in effect, defaults applied.
func (b *Backups) Config() BackupConfig { return b.cfg }

// Version is the exporter version written into every manifest.
const Version = exporterVersion

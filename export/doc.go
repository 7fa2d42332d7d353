// Package export writes and reads streaming exports of a host's data
// modules, optionally encrypted in the age v1 format: CSV downloads,
// GDPR access and portability copies (articles 15 and 20: "a structured,
// commonly used and machine-readable format"), scheduled encrypted
// backups, and the archive a customer takes when they leave.
//
// # Modules and scopes
//
// The host registers each data module with [Exporter.Register]. A
// [Module] has columns and yields its records one at a time as an
// iter.Seq2, so no module is ever loaded whole; a module that also
// implements [Importer] can take records back. Every export has a
// [Scope]: a whole tenant (a backup) or one subject within it (everything
// about one person).
//
//	ex := export.New(export.Config{})
//	_ = ex.Register("contacts", contacts) // contacts implements Module
//	_, err := ex.ExportFile(ctx, "/backups/acme.tar.age", export.Request{
//		Scope:      export.Scope{Tenant: "acme"},
//		Recipients: []age.Recipient{recipient},
//	})
//
// # Formats
//
// [CSV] follows RFC 4180: CRLF line ends, fields quoted when they hold a
// comma, quote or line break, UTF-8 (invalid bytes become U+FFFD), and
// with [Request.BOM] a byte order mark so Excel reads UTF-8. Formula
// injection is neutralised by default (OWASP "CSV Injection", ASVS 5.0
// 1.2.10): a cell starting with = + - @ tab CR or NUL, also after leading
// spaces, line feeds or U+FEFF, gets a leading single quote, so a
// spreadsheet shows it as text. The escaping is reversible, and the
// reader undoes it, so an import gives back the exact values; turning it
// off takes [Config.UnsafeDisableFormulaEscaping]. [JSONLines] writes one
// object per line with the columns as keys, in order.
//
// # Archives and the manifest
//
// A [Tar] (default) or [Zip] archive holds manifest.json first, then one
// file per module (contacts.csv, ...). The [Manifest] lists the modules,
// their columns, row counts, sizes and SHA-256 hashes, the creation time,
// the schema version (1) and the exporter version. To
// write the manifest first while streaming, each module's file is first
// written to a spool file in [Config.TempDir], encrypted with
// ChaCha20-Poly1305 under a random key held only in memory (so plaintext
// personal data never rests on disk), then copied into the archive; spool
// files are removed before the call returns. [Plain] writes one module's
// file alone, with no archive, no spool and no manifest.
//
// Zip entries are stored uncompressed with their sizes in the local
// headers, so the reader can stream them. Neither archive is compressed:
// compression costs more CPU than the rest of the export, and compressing
// before encryption can leak content through sizes.
//
// # Encryption
//
// With [Request.Recipients] (X25519 public keys "age1...", or any
// age.Recipient) or [Request.Passphrase] (scrypt), the whole archive is
// encrypted in the age v1 format (https://age-encryption.org/v1), so users
// can decrypt it with the standard tool:
//
//	age -d -i key.txt backup.tar.age | tar x
//	age -d backup.tar.age > backup.tar    # asks for the passphrase
//
// [Request.Armor] writes ASCII armour. age does not allow a passphrase
// together with other recipients in one file, so a request with both is
// [ErrInvalidRequest]. The passphrase work factor defaults to 18, age's
// own (about 1 s and 256 MiB here), and at most [Config.MaxPassphraseOps]
// scrypt computations run at once (default 1); the others wait, honouring
// their context. When decrypting, a file's work factor above
// [Config.MaxScryptWorkFactor] is refused, since whoever made the file
// chose it.
//
// The header and file key are handled by filippo.io/age. The payload is
// decrypted by this package's implementation of age's STREAM construction
// (ChaCha20-Poly1305 from golang.org/x/crypto), which opens every 64 KiB
// chunk in place in one reused buffer, where age's reader allocates
// 64 KiB per chunk; it is tested against age's writer, against the age
// command-line tool in both directions, and at every chunk boundary.
//
// # Restore
//
// [Exporter.Verify] decrypts an archive and checks it completely: each
// chunk's authentication, the manifest, and each file's name, size, header
// row, row count and SHA-256. [Exporter.DecryptFile] does the same and
// leaves a verified plaintext archive. [Exporter.Import] feeds each
// module's records to its [Importer]; the record sequence of a file that
// fails verification ends with the error, so an Importer that commits only
// after a clean end never applies unverified data, but modules before a
// bad one are already imported. [Exporter.ImportVerified] is all or
// nothing: it decrypts and verifies the whole archive once, into a spool in
// [Config.TempDir] encrypted under a random in-memory key, and feeds the
// Importers from that spool only when everything verified, so a
// passphrase archive pays for scrypt once, where Verify then Import pays
// twice. [Exporter.Decrypt] is the raw decrypting reader, for hosts that
// verify themselves.
//
// Verification proves an archive complete and consistent, not who made
// it: the manifest travels in the archive, and age encryption to X25519
// recipients does not authenticate the sender, so anybody who has the
// recipient (a public key) can make an archive that verifies. Keep
// recipients as confidential as the data, or check where an archive comes
// from before importing it.
//
// # Streaming, cancellation, progress and atomic output
//
// Memory use is constant whatever the export's size: records are pulled
// one at a time, and writers and readers reuse their buffers. A 1 GiB
// export (13.4 million rows, 1.26 GB of CSV, X25519-encrypted to a file)
// followed by a full Verify of it peaked at 11.6 to 12.0 MiB RSS over
// three runs under /usr/bin/time -v (examples/exportexample), against a
// target of 32 MiB. A [Plain] export pulls rows only as fast as the
// destination takes them. An archive export spools every module to
// [Config.TempDir] (encrypted) at disk speed before it writes the
// manifest, so the destination's pace applies only to the copy that
// follows, and TempDir needs room for the whole export. Each call takes a context and stops
// within a few thousand rows, or one 32 KiB copy, of its cancellation.
// [Request.Progress] and [ReadOptions.Progress] are called with the
// module, row count and bytes so far every 4096 rows and when each
// module's file is done, for export and for verify, decrypt-to-file and
// import.
//
// [Exporter.ExportFile] and [Exporter.DecryptFile] write to a temporary
// file in the destination's directory (mode 0600), sync it and rename it
// into place; a failed or cancelled call leaves nothing behind.
// [Exporter.Export] streams to any io.Writer (an HTTP response, say),
// which may then hold a partial export when the call fails.
//
// # Scheduled backups
//
// [Backups] runs a tenant export on an interval into a [Sink] and deletes
// all but the newest [BackupConfig.Keep] (default 7, daily). A Sink
// (Put a stream, List by prefix, Delete) maps onto object storage;
// [NewDirSink] keeps files in a directory. Backups must be encrypted unless
// [BackupConfig.UnsafeAllowPlaintext] says otherwise. The clock and sleep
// are injected, so tests drive the schedule without waiting.
//
// # Errors
//
// Bad input returns one of a few sentinels, wrapped with a reason that
// never contains record data, keys or passphrases: [ErrWrongKey] (wrong
// passphrase or identity, or no key for an encrypted file),
// [ErrNotEncrypted] (keys given for a plaintext file: a restore that
// expects an encrypted backup does not accept a forged plaintext one),
// [ErrCorrupt] (a corrupted or truncated file: age header or chunk,
// archive, manifest or record syntax; a damaged age header, intro line
// included, is also [ErrDamagedHeader], never ErrNotEncrypted), [ErrManifestMismatch] (a well
// formed archive whose files disagree with its manifest) and
// [ErrUnknownVersion] (a manifest of another schema version, or not a
// Bulwark export). Errors from the caller's reader, from modules and from
// the context are returned wrapped, never disguised as these.
//
// # Concurrency and nil
//
// An [Exporter] is safe for concurrent use; register modules before the
// first export. Callbacks ([Request.Progress], [Config.Hook]) run
// synchronously on the calling goroutine. Nil modules, sinks or exporters
// are rejected with [ErrInvalidRequest]; a nil Hook or Progress is
// skipped.
package export

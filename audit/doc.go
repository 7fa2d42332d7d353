// Package audit is a tamper-evident change log and access log: who did what
// to which record, from which IP address, with the field-level diff, in a
// form nobody can quietly rewrite (OWASP ASVS 5.0 V16).
//
// # Entries
//
// An [Entry] records the time (UTC, to the microsecond), the actor (a user id
// or a system job), the tenant, a stable dotted action (auth.login.failed,
// record.updated), the target, the outcome, the client IP (take it from
// clientip.Resolver so a spoofed X-Forwarded-For never lands here), the user
// agent, the request id and, for data changes, the [Change]s built by
// [Diff] from two structs or maps. Struct tags `audit:"-"` and
// `audit:",redact"` leave a field out or record only that it changed.
//
// # Redaction at the source
//
// [Log.Append] runs Config.Redactor ([DefaultRedactor] unless the host
// sets one) over every change and detail before the entry is hashed or
// stored: fields named like passwords, secrets and tokens become
// [REDACTED], values that look like credentials too, and payment card
// numbers are masked to their last four digits. Strings are made valid
// UTF-8 and capped (user agents at 512 bytes). [Entry.String] renders
// control characters, line separators and bidirectional overrides
// visibly, so a crafted value cannot forge a log line (ASVS 16.4.1).
//
// # Tamper evidence
//
// Each stream (one per tenant) is a hash chain: record n carries sequence
// number n and the SHA-256 of record n-1, and its own hash is the SHA-256 of
// a canonical, versioned, length-prefixed binary encoding
// ([Record.UnmarshalBinary] documents it) of all its fields. Changing, deleting, inserting
// or reordering a record breaks the chain. A [Checkpoint] signs a stream's
// head with a [Signer] ([NewHMACKey] or [NewEd25519Key]); after that, dropping
// the newest records (truncation) or rewriting the whole chain is detected
// as well (ASVS 16.4.2). Checkpoints are written every Config.CheckpointEvery
// records; run [Log.Checkpoint] on a timer so quiet streams are covered
// too. [Log.Verify] is the one way to check the store: it walks one stream
// (or a range of it) or every stream, and returns the first broken record
// as a [*ChainError] matching [ErrTampered]. [ChainVerifier] is the same
// check, one record at a time, for records kept elsewhere.
// A store that keeps copies of fields beside the record for filtering (the
// SQL columns actor, ip, action, target_id, ...) checks each copy against
// the record as it reads it: an edited column makes Verify fail with
// [ProblemColumn] (a record hidden from a search by moving it out of the
// filter is found this way), and [Log.Query] refuses any record whose own
// fields do not match the filter rather than return it.
//
// Checkpoints live in the same store as the records. Someone who can
// delete rows can delete checkpoints too, then truncate or rewrite (and
// re-hash) everything after the last checkpoint they kept, and Verify
// cannot tell. Against an attacker with write access to the store, keep
// signed checkpoints (or exports) where that attacker cannot reach, such
// as write-once storage or the auditor's own copy (ASVS 16.4.3), and
// compare: a record
// a kept checkpoint vouches for must still hash to the signed value.
// [VerifyReport.Signed] says how far the checkpoints found vouch for a
// stream; records after it are only chained, not signed.
//
// # Concurrency, durability and failing closed
//
// A [Log] is safe for concurrent use. Appends are grouped: while one batch
// is being written, new events queue, and the next batch carries them all
// (group commit); [Log.Append] returns only when its own event is durable.
// An Append that finds no batch to join and a write slot free writes its
// own event at once, with no hand-off to another goroutine, so an
// uncontended log costs little more than its store: on the in-memory
// store, Log.Append runs at about 0.7 of the store's own Append for the
// same event, 0.6 when it also draws the id and reads the clock
// (BenchmarkAppendRatio).
// Many processes may share one store: the store serialises each stream (a
// row lock on the stream's head in PostgreSQL, the write lock in SQLite, a
// mutex in memory), so every stream stays one chain. When the store fails,
// Append returns an error wrapping [ErrWrite] and the host should refuse the
// audited action (fail closed); Config.FailOpen trades that for
// availability.
//
// # In the host's transaction
//
// Group commit makes an event durable on its own, before or after the
// change it describes; if that change then fails or its request is
// cancelled, the log holds a change that never happened. A host whose data
// lives in the same SQL database appends instead inside its own
// transaction with [Log.AppendTx] and a [TxAppender]
// (store/sqlstore: AuditStore.Tx(tx)): make the change, append, commit.
// The change and its record commit or roll back together. The stream's
// head stays locked by that transaction until it ends, so concurrent
// Appends (from any process) chain after it, or after its predecessor if
// it rolls back; keep the transaction short and append last. Such records
// are not checkpointed inside the transaction; later automatic checkpoints
// and [Log.Checkpoint] cover them.
//
// # Query and reports
//
// [Log.Query] filters by tenant, actor, target, action prefix, outcome, IP
// and time range, newest first, with keyset pagination ([Cursor]).
// [Log.AccessReport] counts logins, failures and lockouts per account and
// per IP over a period, for a "security activity" page.
//
// # Export, retention and offline verification
//
// audit/auditjsonl.Export writes a range as JSON Lines with every hash and
// the signed checkpoints, and ends each stream with a signed manifest: the first and
// last record, how many, what had been pruned, and a digest of the
// checkpoint lines. auditjsonl.Verify (and the examples/auditverify command)
// checks such a file without the database and refuses one that is not
// exactly what its manifest states, so records cut from the front (which
// would otherwise look like an export that began later), from the end, or
// a missing checkpoint line are detected; it refuses an empty input too.
// [Log.Prune] verifies the stream, then
// deletes records older than a period after signing a checkpoint that
// records the pruned head, so what remains still verifies from a signed
// anchor; it refuses to prune a stream that fails verification.
//
// # What the log holds (for privacy notices)
//
// Each record keeps the fields of [Entry] as given, after redaction: the
// actor's id, the client IP address and user agent (personal data under
// GDPR), the target's id and the changed values. Location is not derived or
// stored; hosts that add it put it in Details. Tell users which actions are
// logged and for how long (ASVS 16.1.1), and run [Log.PruneAll] on that
// schedule. Records cannot be edited in place, by design: to erase a
// person's data from old records, prune the period or encrypt identifying
// details with a per-subject key the host can destroy.
//
// # slog
//
// [Log.SlogHandler] is an slog.Handler that writes chosen records (by
// default those with an audit.action attribute) into the log.
//
// # Stores
//
// A [Store] is implemented by store/memstore, store/sqlstore (PostgreSQL
// and SQLite) and audit/auditfile (a crash-safe JSON Lines file); the
// conformance suite audit/audittest checks any implementation.
package audit

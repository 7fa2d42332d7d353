package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/audit"
)

var _ AuditStore = (*auditStore)(nil)

// AuditStore is the [audit.Store] on PostgreSQL or SQLite, with [AuditStore.Tx]
// for appending inside the host's own transaction. Get one with
// [Store.Audit].
type AuditStore interface {
	audit.Store
	// Tx returns an [audit.TxAppender] for [audit.Log.AppendTx] that
	// appends inside tx, the host's own transaction: the records and the
	// host's change commit together or not at all, so the log never
	// records a change that was rolled back (or cancelled with its
	// request), and a committed change is never missing from it.
	// [audit.Log.AppendTx] redacts and validates first; an appender used
	// directly must be given events that already carry their ID and Time.
	// A nil tx makes every append fail.
	//
	// An append locks the head of each stream it touches for the rest of
	// tx (a row lock in PostgreSQL; SQLite's write lock is the
	// transaction's already), so concurrent appends through
	// [audit.Log.Append], in this process or another, wait for tx and then
	// chain after its records, or after its predecessor if it rolls back.
	// Keep tx short and append last, just before Commit: other appends to
	// the stream wait meanwhile. Under REPEATABLE READ or SERIALIZABLE in
	// PostgreSQL a concurrent append makes it fail with a serialization
	// error; retry the transaction.
	//
	// No checkpoint is signed for these records inside tx (it would vouch
	// for records that may yet roll back); the next automatic checkpoint
	// or [audit.Log.CheckpointAll] covers them.
	Tx(tx *sql.Tx) audit.TxAppender
}

// auditStore is the [AuditStore]: see [Store.Audit].
type auditStore struct {
	s     *Store
	mu    sync.Mutex
	heads map[string]audit.Head // last head this store wrote, per stream: the fast path's guess
	fast  sync.Map              // rows -> PostgreSQL fast-path statement

	qLockHead, qSetHead, qRecords        string
	qAddCheckpoint, qCheckpoints, qPrune string
	qHead, qStreams                      string
}

// Audit returns the audit store on this database ([Store.Migrate] must
// have run): the [audit.Store] on PostgreSQL or SQLite. Appends to a
// stream are serialised by the stream's row in bulwark_audit_heads: an
// upsert that locks it (row lock in PostgreSQL, held to commit; the
// database write lock in SQLite), so any number of pools and processes
// keep one chain per stream. Safe for concurrent use.
//
// The columns beside each record's body (actor, ip, action, target_id, ...)
// exist for Query's indexes; every read compares them with the body and
// fails with an [audit.ChainError] of [audit.ProblemColumn] when one was
// edited, so Verify covers every column a query trusts.
func (s *Store) Audit() AuditStore {
	return &auditStore{
		s:     s,
		heads: map[string]audit.Head{},
		qLockHead: s.query(`INSERT INTO bulwark_audit_heads (stream, seq, hash) VALUES ($1, 0, $2)
			ON CONFLICT (stream) DO UPDATE SET stream = EXCLUDED.stream RETURNING seq, hash`),
		qSetHead: s.query(`UPDATE bulwark_audit_heads SET seq = $2, hash = $3 WHERE stream = $1`),
		qHead:    s.query(`SELECT seq, hash FROM bulwark_audit_heads WHERE stream = $1`),
		qRecords: s.query(`SELECT ` + auditSelectColumns + ` FROM bulwark_audit_events WHERE stream = $1 AND seq >= $2 ORDER BY seq LIMIT $3`),
		qAddCheckpoint: s.query(`INSERT INTO bulwark_audit_checkpoints
			(stream, seq, pruned_seq, hash, at, pruned_hash, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (stream, seq, pruned_seq) DO NOTHING`),
		qCheckpoints: s.query(`SELECT stream, seq, pruned_seq, hash, at, pruned_hash, key_id, signature
			FROM bulwark_audit_checkpoints WHERE stream = $1 AND seq >= $2 ORDER BY seq, pruned_seq LIMIT $3`),
		qPrune:   s.query(`DELETE FROM bulwark_audit_events WHERE stream = $1 AND seq <= $2`),
		qStreams: s.query(`SELECT stream FROM bulwark_audit_heads WHERE seq > 0 ORDER BY stream`),
	}
}

const auditInsertColumns = 12

// auditInsertRows caps rows per INSERT (12 parameters each), well under
// both dialects' parameter limits.
const auditInsertRows = 400

// Append implements [audit.RecordStore].
//
// On PostgreSQL a batch for one stream first tries a single-statement fast
// path: it links the events after the head this store last wrote and runs
// one UPDATE of the head (conditional on it not having moved) plus the
// INSERT, as one statement in one implicit transaction. If another process
// moved the head, the UPDATE matches nothing, nothing is inserted, and the
// batch is linked again under the row lock. One round trip instead of five
// is what lets group commit reach tens of thousands of events a second.
func (a *auditStore) Append(ctx context.Context, events []audit.Entry) (out []audit.Record, err error) {
	if len(events) == 0 {
		return nil, nil
	}
	if a.s.dialect == Postgres {
		if out, ok, err := a.appendFast(ctx, events); ok || err != nil {
			return out, err
		}
	}
	defer func() {
		if err == nil {
			a.remember(out)
		}
	}()
	tx, err := a.s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit append: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if out, err = a.appendIn(ctx, tx, events); err != nil {
		return nil, err
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit commit: %w", err)
	}
	return out, nil
}

// appendTx appends events inside tx, the host's transaction; see
// [AuditStore.Tx].
func (a *auditStore) appendTx(ctx context.Context, tx *sql.Tx, events []audit.Entry) ([]audit.Record, error) {
	if tx == nil {
		return nil, errors.New("sqlstore: audit Tx with a nil transaction")
	}
	if len(events) == 0 {
		return nil, nil
	}
	return a.appendIn(ctx, tx, events)
}

// Tx implements [AuditStore].
func (a *auditStore) Tx(tx *sql.Tx) audit.TxAppender { return auditTx{a, tx} }

type auditTx struct {
	a  *auditStore
	tx *sql.Tx
}

func (t auditTx) Append(ctx context.Context, events []audit.Entry) ([]audit.Record, error) {
	return t.a.appendTx(ctx, t.tx, events)
}

// appendIn locks the heads of events' streams in tx, links the events
// after them, inserts the records and moves the heads, all inside tx.
func (a *auditStore) appendIn(ctx context.Context, tx *sql.Tx, events []audit.Entry) (out []audit.Record, err error) {
	// Lock heads in sorted order, so two batches touching the same streams
	// cannot deadlock.
	streams := make([]string, 0, 1)
	for _, ev := range events {
		if !slices.Contains(streams, ev.Tenant) {
			streams = append(streams, ev.Tenant)
		}
	}
	slices.Sort(streams)
	chains, err := a.lockHeads(ctx, tx, streams)
	if err != nil {
		return nil, err
	}
	out = make([]audit.Record, 0, len(events))
	args := make([]any, 0, auditInsertColumns*min(len(events), auditInsertRows))
	for i, ev := range events {
		var r audit.Record
		if r, err = chains[ev.Tenant].Link(ev); err != nil {
			return nil, err
		}
		out = append(out, r)
		args = auditRowArgs(args, &r, slices.Clone(chains[ev.Tenant].Encoded()))
		if len(args) == auditInsertColumns*auditInsertRows || i == len(events)-1 {
			if _, err = tx.ExecContext(ctx, a.insertQuery(len(args)/auditInsertColumns), args...); err != nil {
				return nil, fmt.Errorf("sqlstore: audit insert: %w", err)
			}
			args = args[:0]
		}
	}
	if err = a.setHeads(ctx, tx, streams, chains); err != nil {
		return nil, err
	}
	return out, nil
}

// lockHeads creates missing head rows and locks every head of the batch,
// in sorted stream order so that concurrent batches cannot deadlock. On
// PostgreSQL that is one statement for all streams; on SQLite the
// transaction already holds the database's write lock.
func (a *auditStore) lockHeads(ctx context.Context, tx *sql.Tx, streams []string) (map[string]*audit.Chain, error) {
	chains := make(map[string]*audit.Chain, len(streams))
	zero := make([]byte, 32)
	if a.s.dialect == Postgres && len(streams) > 1 {
		rows, err := tx.QueryContext(ctx, `INSERT INTO bulwark_audit_heads (stream, seq, hash)
			SELECT s, 0, $2::bytea FROM unnest($1::text[]) AS s ORDER BY s
			ON CONFLICT (stream) DO UPDATE SET stream = EXCLUDED.stream RETURNING stream, seq, hash`, streams, zero)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: audit lock heads: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var st string
			var seq int64
			var hash []byte
			if err := rows.Scan(&st, &seq, &hash); err != nil {
				return nil, fmt.Errorf("sqlstore: audit lock heads: %w", err)
			}
			if chains[st], err = auditChain(st, seq, hash); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: audit lock heads: %w", err)
		}
		if len(chains) != len(streams) {
			return nil, fmt.Errorf("sqlstore: audit lock heads: %d of %d heads", len(chains), len(streams))
		}
		return chains, nil
	}
	for _, st := range streams {
		var seq int64
		var hash []byte
		if err := tx.QueryRowContext(ctx, a.qLockHead, st, zero).Scan(&seq, &hash); err != nil {
			return nil, fmt.Errorf("sqlstore: audit lock head: %w", err)
		}
		c, err := auditChain(st, seq, hash)
		if err != nil {
			return nil, err
		}
		chains[st] = c
	}
	return chains, nil
}

func auditChain(stream string, seq int64, hash []byte) (*audit.Chain, error) {
	h := audit.Head{Stream: stream, Seq: uint64(seq)}
	if len(hash) != len(h.Hash) {
		return nil, fmt.Errorf("sqlstore: audit head of %q: %w", stream, audit.ErrMalformed)
	}
	copy(h.Hash[:], hash)
	return &audit.Chain{Head: h}, nil
}

// setHeads stores the new heads: one statement on PostgreSQL.
func (a *auditStore) setHeads(ctx context.Context, tx *sql.Tx, streams []string, chains map[string]*audit.Chain) error {
	if a.s.dialect == Postgres && len(streams) > 1 {
		seqs, hashes := make([]int64, len(streams)), make([][]byte, len(streams))
		for i, st := range streams {
			h := chains[st].Head
			seqs[i], hashes[i] = int64(h.Seq), h.Hash[:]
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bulwark_audit_heads AS h SET seq = v.seq, hash = v.hash
			FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS v(stream, seq, hash) WHERE h.stream = v.stream`,
			streams, seqs, hashes); err != nil {
			return fmt.Errorf("sqlstore: audit set heads: %w", err)
		}
		return nil
	}
	for _, st := range streams {
		h := chains[st].Head
		if _, err := tx.ExecContext(ctx, a.qSetHead, st, int64(h.Seq), h.Hash[:]); err != nil {
			return fmt.Errorf("sqlstore: audit set head: %w", err)
		}
	}
	return nil
}

func (a *auditStore) remember(recs []audit.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range recs {
		a.heads[r.Tenant] = audit.Head{Stream: r.Tenant, Seq: r.Seq, Hash: r.Hash}
	}
}

// appendFast is the PostgreSQL single-statement path; ok is false when the
// slow path must run (several streams, no remembered head, or the head moved).
func (a *auditStore) appendFast(ctx context.Context, events []audit.Entry) (out []audit.Record, ok bool, err error) {
	stream := events[0].Tenant
	for _, ev := range events[1:] {
		if ev.Tenant != stream {
			return nil, false, nil
		}
	}
	if len(events) > auditInsertRows {
		return nil, false, nil
	}
	// Link under the mutex and remember the predicted head at once, so a
	// second batch of this stream sent before the first commits links
	// after it; the UPDATE's condition makes a wrong guess harmless.
	a.mu.Lock()
	head, known := a.heads[stream]
	if !known {
		a.mu.Unlock()
		return nil, false, nil
	}
	chain := audit.Chain{Head: head}
	out = make([]audit.Record, 0, len(events))
	args := make([]any, 5, 5+auditInsertColumns*len(events))
	for _, ev := range events {
		r, err := chain.Link(ev)
		if err != nil {
			a.mu.Unlock()
			return nil, true, err
		}
		out = append(out, r)
		args = auditRowArgs(args, &r, slices.Clone(chain.Encoded()))
	}
	a.heads[stream] = chain.Head
	a.mu.Unlock()
	forget := func() {
		a.mu.Lock()
		if a.heads[stream] == chain.Head {
			delete(a.heads, stream)
		}
		a.mu.Unlock()
	}
	args[0], args[1], args[2], args[3], args[4] = stream, int64(chain.Head.Seq), chain.Head.Hash[:], int64(head.Seq), head.Hash[:]
	res, err := a.s.db.ExecContext(ctx, a.fastQuery(len(events)), args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		forget()
		return nil, true, fmt.Errorf("sqlstore: audit append: %w", err)
	}
	if n != int64(len(events)) {
		forget()
		return nil, false, nil // the head moved: another writer got there first
	}
	return out, true, nil
}

var auditColumnTypes = [auditInsertColumns]string{"text", "bigint", "text", "bigint", "text", "text",
	"text", "text", "text", "text", "bytea", "bytea"}

const auditInsertInto = `INSERT INTO bulwark_audit_events (stream, seq, id, at, actor, action, target_type, target_id, outcome, ip, body, hash) `

// auditValues writes rows parenthesised groups of placeholders numbered
// from first, with PostgreSQL casts when cast is set.
func auditValues(b *strings.Builder, rows, first int, cast bool) {
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range auditInsertColumns {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteString("$" + strconv.Itoa(n))
			if cast {
				b.WriteString("::" + auditColumnTypes[c])
			}
			n++
		}
		b.WriteByte(')')
	}
}

// auditRowArgs appends the insert arguments of r, whose encoding is body.
func auditRowArgs(args []any, r *audit.Record, body []byte) []any {
	return append(args, r.Tenant, int64(r.Seq), r.ID, micros(r.Time), r.Actor, r.Action,
		r.TargetType, r.TargetID, string(r.Outcome), r.IP, body, r.Hash[:])
}

func (a *auditStore) fastQuery(rows int) string {
	if q, ok := a.fast.Load(rows); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(`WITH moved AS (UPDATE bulwark_audit_heads SET seq = $2, hash = $3
		WHERE stream = $1 AND seq = $4 AND hash = $5 RETURNING 1) ` + auditInsertInto + `SELECT v.* FROM (VALUES `)
	auditValues(&b, rows, 6, true)
	b.WriteString(`) AS v WHERE EXISTS (SELECT 1 FROM moved)`)
	q := b.String()
	a.fast.Store(rows, q)
	return q
}

func (a *auditStore) insertQuery(rows int) string {
	var b strings.Builder
	b.WriteString(auditInsertInto + "VALUES ")
	auditValues(&b, rows, 1, false)
	return a.s.query(b.String())
}

// Head implements [audit.RecordStore].
func (a *auditStore) Head(ctx context.Context, stream string) (audit.Head, error) {
	h := audit.Head{Stream: stream}
	var seq int64
	var hash []byte
	err := a.s.db.QueryRowContext(ctx, a.qHead, stream).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("sqlstore: audit head: %w", err)
	}
	if len(hash) != len(h.Hash) {
		return h, fmt.Errorf("sqlstore: audit head of %q: %w", stream, audit.ErrMalformed)
	}
	h.Seq = uint64(seq)
	copy(h.Hash[:], hash)
	return h, nil
}

// Records implements [audit.RecordStore].
func (a *auditStore) Records(ctx context.Context, stream string, from uint64, limit int) ([]audit.Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	return a.scan(ctx, a.qRecords, stream, int64(min(from, 1<<63-1)), limit)
}

// auditSelectColumns are read for every record: the body and hash that
// the chain covers, and every denormalised column a query filters on, so
// that each can be checked against the body (see checkColumns).
const auditSelectColumns = `stream, seq, id, at, actor, action, target_type, target_id, outcome, ip, body, hash`

// auditRow is one scanned row of bulwark_audit_events.
type auditRow struct {
	stream, id, actor, action, targetType, targetID, outcome, ip string
	seq, at                                                      int64
	body, hash                                                   []byte
}

// checkColumns reports whether every denormalised column of row holds
// what the record's body says. The columns are what Query filters on and
// the body is what the hash chain covers: a column edited behind the
// store's back would hide a verified record from a search (or pin it on
// someone else) without breaking the chain.
func (row *auditRow) checkColumns(r *audit.Record) bool {
	return row.stream == r.Tenant && row.seq == int64(r.Seq) && row.id == r.ID && row.at == micros(r.Time) &&
		row.actor == r.Actor && row.action == r.Action && row.targetType == r.TargetType &&
		row.targetID == r.TargetID && row.outcome == string(r.Outcome) && row.ip == r.IP
}

// scan reads records and fails with an [audit.ChainError] of
// [audit.ProblemColumn] at the first row whose columns disagree with its
// body: neither Verify nor Query may take such a row at its word.
func (a *auditStore) scan(ctx context.Context, q string, args ...any) ([]audit.Record, error) {
	rows, err := a.s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit query: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	var row auditRow
	for rows.Next() {
		if err := rows.Scan(&row.stream, &row.seq, &row.id, &row.at, &row.actor, &row.action,
			&row.targetType, &row.targetID, &row.outcome, &row.ip, &row.body, &row.hash); err != nil {
			return nil, fmt.Errorf("sqlstore: audit scan: %w", err)
		}
		var r audit.Record
		if err := r.UnmarshalBinary(row.body); err != nil || len(row.hash) != len(r.Hash) {
			return nil, fmt.Errorf("sqlstore: audit record: %w", audit.ErrMalformed)
		}
		if !row.checkColumns(&r) {
			p := audit.ProblemColumn
			// The body decoded, so it is canonical: its SHA-256 is the hash
			// the record would have.
			if h := sha256.Sum256(row.body); !bytes.Equal(h[:], row.hash) {
				p = audit.ProblemHash // the body itself was rewritten
			}
			return nil, &audit.ChainError{Stream: row.stream, Seq: r.Seq, Problem: p}
		}
		copy(r.Hash[:], row.hash)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit query: %w", err)
	}
	return out, nil
}

// Query implements [audit.RecordStore].
func (a *auditStore) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var where []string
	var args []any
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if !f.AllTenants {
		add("stream = ?", f.Tenant)
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"target_type", f.TargetType},
		{"target_id", f.TargetID}, {"outcome", string(f.Outcome)}, {"ip", f.IP}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if p := strings.TrimSuffix(f.ActionPrefix, "."); f.ActionPrefix != "" {
		n := utf8.RuneCountInString(p) + 1
		if p != f.ActionPrefix {
			add("substr(action, 1, ?) = ?", n, p+".") // "auth.": descendants only
		} else {
			add("(action = ? OR substr(action, 1, ?) = ?)", p, n, p+".")
		}
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixMicro())
	}
	if f.After != (audit.Cursor{}) {
		t := f.After.Time.UnixMicro()
		add("(at < ? OR (at = ? AND id < ?))", t, t, f.After.ID)
	}
	q := "SELECT " + auditSelectColumns + " FROM bulwark_audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += " ORDER BY at DESC, id DESC LIMIT $" + strconv.Itoa(len(args))
	return a.scan(ctx, a.s.query(q), args...)
}

// AddCheckpoint implements [audit.CheckpointStore].
func (a *auditStore) AddCheckpoint(ctx context.Context, cp audit.Checkpoint) error {
	return a.addCheckpoint(ctx, a.s.db, cp)
}

type auditExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (a *auditStore) addCheckpoint(ctx context.Context, x auditExecer, cp audit.Checkpoint) error {
	_, err := x.ExecContext(ctx, a.qAddCheckpoint, cp.Stream, int64(cp.Seq), int64(cp.PrunedSeq),
		cp.Hash[:], micros(cp.Time), cp.PrunedHash[:], cp.KeyID, cp.Signature)
	if err != nil {
		return fmt.Errorf("sqlstore: audit add checkpoint: %w", err)
	}
	return nil
}

// Checkpoints implements [audit.CheckpointStore].
func (a *auditStore) Checkpoints(ctx context.Context, stream string, from uint64, limit int) ([]audit.Checkpoint, error) {
	rows, err := a.s.db.QueryContext(ctx, a.qCheckpoints, stream, int64(min(from, 1<<63-1)), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var cp audit.Checkpoint
		var seq, pruned, at int64
		var hash, prunedHash []byte
		if err := rows.Scan(&cp.Stream, &seq, &pruned, &hash, &at, &prunedHash, &cp.KeyID, &cp.Signature); err != nil {
			return nil, fmt.Errorf("sqlstore: audit checkpoints: %w", err)
		}
		if len(hash) != 32 || len(prunedHash) != 32 {
			return nil, fmt.Errorf("sqlstore: audit checkpoint: %w", audit.ErrMalformed)
		}
		cp.Seq, cp.PrunedSeq, cp.Time = uint64(seq), uint64(pruned), fromMicros(at)
		copy(cp.Hash[:], hash)
		copy(cp.PrunedHash[:], prunedHash)
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit checkpoints: %w", err)
	}
	return out, nil
}

// Prune implements [audit.CheckpointStore].
func (a *auditStore) Prune(ctx context.Context, cp audit.Checkpoint) (n int64, err error) {
	tx, err := a.s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: audit prune: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = a.addCheckpoint(ctx, tx, cp); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, a.qPrune, cp.Stream, int64(cp.PrunedSeq))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: audit prune: %w", err)
	}
	if n, err = res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("sqlstore: audit prune: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlstore: audit prune: %w", err)
	}
	return n, nil
}

// Streams implements [audit.CheckpointStore].
func (a *auditStore) Streams(ctx context.Context) ([]string, error) {
	rows, err := a.s.db.QueryContext(ctx, a.qStreams)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit streams: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("sqlstore: audit streams: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit streams: %w", err)
	}
	return out, nil
}

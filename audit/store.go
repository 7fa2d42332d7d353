package audit

import (
	"context"
	"strings"
	"time"
)

// Store is what a [Log] keeps its records in: a [RecordStore] and a
// [CheckpointStore]. store/memstore, store/sqlstore (PostgreSQL, SQLite) and
// [github.com/bulwarkhq/bulwark/audit/auditfile] implement it, and
// audit/audittest checks any implementation.
//
// Errors are for system failures only; a missing stream reads as empty.
// Implementations must be safe for concurrent use.
type Store interface {
	RecordStore
	CheckpointStore
}

// RecordStore appends and reads records.
type RecordStore interface {
	// Append links each event, in order, after the head of its stream
	// (Entry.Tenant) with a [Chain] and stores the records and the new
	// heads atomically: all of them or none. Appends to one stream are
	// serialised across every goroutine and process using the store, so
	// each stream stays one chain. It returns the records in event order.
	// When Append returns nil the records are durable.
	Append(ctx context.Context, events []Entry) ([]Record, error)
	// Head returns the head of stream: the zero Head (with Stream set)
	// for a stream never written. Pruning does not move the head.
	Head(ctx context.Context, stream string) (Head, error)
	// Records returns at most limit records of stream with Seq >= from,
	// by ascending Seq, exactly as stored.
	Records(ctx context.Context, stream string, from uint64, limit int) ([]Record, error)
	// Query returns at most f.Limit records matching f (see
	// [Filter.Match]), newest first: by descending Time, then descending
	// ID, strictly after f.After when it is set.
	Query(ctx context.Context, f Filter) ([]Record, error)
}

// TxAppender appends records inside a transaction the host holds, so that
// they become durable exactly when the host's own change commits, and
// vanish with it if it rolls back. [Log.AppendTx] uses one;
// store/sqlstore's AuditStore.Tx makes one from a *sql.Tx. Like
// [RecordStore.Append] it links each event after the head of its stream,
// serialised against every other appender of the stream (it holds the
// stream's head lock until the transaction ends), but its records are
// durable only once the host commits.
type TxAppender interface {
	Append(ctx context.Context, events []Entry) ([]Record, error)
}

// CheckpointStore keeps signed checkpoints and prunes.
type CheckpointStore interface {
	// AddCheckpoint stores cp. A checkpoint with the same Stream, Seq and
	// PrunedSeq as a stored one is ignored.
	AddCheckpoint(ctx context.Context, cp Checkpoint) error
	// Checkpoints returns at most limit checkpoints of stream with
	// Seq >= from, by ascending Seq then PrunedSeq.
	Checkpoints(ctx context.Context, stream string, from uint64, limit int) ([]Checkpoint, error)
	// Prune deletes the records of cp.Stream with Seq <= cp.PrunedSeq and
	// stores cp, atomically, returning how many records it deleted.
	Prune(ctx context.Context, cp Checkpoint) (int64, error)
	// Streams lists every stream that has a head, in ascending order.
	Streams(ctx context.Context) ([]string, error)
}

// Cursor is a position in newest-first order, for keyset pagination: the
// Time and ID of the last record of the previous page. The zero Cursor is
// the start, before the newest record.
type Cursor struct {
	Time time.Time
	ID   string
}

// isZero reports whether c is the start (the newest record).
func (c Cursor) isZero() bool { return c.Time.IsZero() && c.ID == "" }

// Filter selects records for [Log.Query] and [RecordStore.Query]. Empty
// fields match everything.
type Filter struct {
	Tenant       string    // the stream to search; see AllTenants
	AllTenants   bool      // search every stream, ignoring Tenant
	Actor        string    // exact
	TargetType   string    // exact
	TargetID     string    // exact
	ActionPrefix string    // "auth.login" matches auth.login and auth.login.failed, not auth.loginx
	Outcome      Outcome   // exact
	IP           string    // exact
	Since        time.Time // Time >= Since
	Until        time.Time // Time < Until
	After        Cursor    // keyset: only records older than this position
	Limit        int       // page size; Log.Query caps it to 1..1000, default 50
}

// Match reports whether r passes every field of f but Limit, After
// included (r would be on a later page). Store implementations use it as
// the definition of filtering.
func (f *Filter) Match(r *Record) bool {
	return (f.AllTenants || r.Tenant == f.Tenant) &&
		(f.Actor == "" || r.Actor == f.Actor) &&
		(f.TargetType == "" || r.TargetType == f.TargetType) &&
		(f.TargetID == "" || r.TargetID == f.TargetID) &&
		(f.Outcome == "" || r.Outcome == f.Outcome) &&
		(f.IP == "" || r.IP == f.IP) &&
		matchActionPrefix(f.ActionPrefix, r.Action) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || r.Time.Before(f.Until)) &&
		f.After.before(r)
}

// before reports whether r comes after c in newest-first order, i.e. is
// on a later page. A zero cursor lets everything through.
func (c Cursor) before(r *Record) bool {
	if c.isZero() {
		return true
	}
	rt, ct := r.Time.UnixMicro(), c.Time.UnixMicro()
	return rt < ct || (rt == ct && r.ID < c.ID)
}

// matchActionPrefix reports whether action is prefix or a dotted
// descendant of it. An empty prefix matches everything.
func matchActionPrefix(prefix, action string) bool {
	if prefix == "" || action == prefix {
		return true
	}
	p := strings.TrimSuffix(prefix, ".") + "."
	return strings.HasPrefix(action, p)
}

// NewerFirst compares two records in the order Query returns them.
func NewerFirst(a, b *Record) int {
	at, bt := a.Time.UnixMicro(), b.Time.UnixMicro()
	switch {
	case at > bt:
		return -1
	case at < bt:
		return 1
	case a.ID > b.ID:
		return -1
	case a.ID < b.ID:
		return 1
	}
	return 0
}

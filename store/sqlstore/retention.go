package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
)

// retentionStore is the store [Store.Retention] returns.
type retentionStore struct {
	db      *sql.DB
	dialect Dialect
	q       retentionQueries
}

var _ RetentionStore = (*retentionStore)(nil)

// RetentionStore is the [retention.Store] on PostgreSQL or SQLite, and its
// [retention.Locker] for [retention.SchedulerConfig]: on PostgreSQL a
// session-level advisory lock with a fencing token; on SQLite, which has
// no lock that outlives a transaction, Acquire returns
// [ErrRetentionLockUnsupported] (use [retention.LocalLocker] in a single
// process). Get one with [Store.Retention].
type RetentionStore interface {
	retention.Store
	retention.Locker
}

type retentionQueries struct {
	put, get, list, markTime, markWarned, readWarned, hold, state                  string
	begin, openErasure, raiseFence, step, finish, tombstone, erasureState, pending string
	lockFence, advanceFence, readFence, checkLease                                 string
}

const retentionCols = `id, state, since, last_active, has_key, version, hold_reason, hold_since, warned, suspended_at, closed_at, erased_at, receipt`

// Retention returns the retention store over s's pool.
//
// The store is the [retention.Store] on PostgreSQL or SQLite. On
// PostgreSQL it is also a [retention.Locker] backed by an advisory lock.
func (s *Store) Retention() RetentionStore {
	lockSuffix := ""
	if s.dialect == Postgres {
		// Lock the subject row for the insert's duration, so that a hold
		// placed concurrently is either seen or waits.
		lockSuffix = " FOR SHARE"
	}
	// fenceOK(n) holds when parameter n is 0 (a caller without a lock) or
	// not below the newest lock holder's token. On PostgreSQL the token's
	// row is read FOR SHARE, so AdvanceFence waits for a write that read
	// the old token to commit, and a write that starts after it sees the
	// new one: no write of a stale holder lands after the new holder
	// starts. SQLite runs one writer at a time.
	fenceOK := func(n string) string {
		return `(CAST($` + n + ` AS BIGINT) = 0 OR CAST($` + n + ` AS BIGINT) >= (SELECT fence FROM bulwark_retention_fence WHERE one = 1` + lockSuffix + `))`
	}
	q := retentionQueries{
		put: s.query(`INSERT INTO bulwark_retention_subjects (id, state, since, last_active, has_key, version)
VALUES ($1, $2, $3, $4, $5, 1)
ON CONFLICT (id) DO UPDATE SET
  warned = CASE WHEN bulwark_retention_subjects.state = excluded.state AND bulwark_retention_subjects.since = excluded.since THEN bulwark_retention_subjects.warned ELSE '' END,
  suspended_at = CASE WHEN bulwark_retention_subjects.state = excluded.state AND bulwark_retention_subjects.since = excluded.since THEN bulwark_retention_subjects.suspended_at ELSE 0 END,
  closed_at = CASE WHEN bulwark_retention_subjects.state = excluded.state AND bulwark_retention_subjects.since = excluded.since THEN bulwark_retention_subjects.closed_at ELSE 0 END,
  state = excluded.state, since = excluded.since, last_active = excluded.last_active, has_key = excluded.has_key,
  version = bulwark_retention_subjects.version + 1
WHERE bulwark_retention_subjects.erased_at = 0
RETURNING version`),
		get:          s.query(`SELECT ` + retentionCols + ` FROM bulwark_retention_subjects WHERE id = $1`),
		list:         s.query(`SELECT ` + retentionCols + ` FROM bulwark_retention_subjects WHERE erased_at = 0 AND id > $1 ORDER BY id LIMIT $2`),
		markTime:     s.query(`UPDATE bulwark_retention_subjects SET suspended_at = CASE WHEN CAST($3 AS TEXT) = 'suspend' THEN CAST($4 AS BIGINT) ELSE suspended_at END, closed_at = CASE WHEN CAST($3 AS TEXT) = 'close' THEN CAST($4 AS BIGINT) ELSE closed_at END WHERE id = $1 AND version = $2 AND erased_at = 0 AND ` + fenceOK("5")),
		markWarned:   s.query(`UPDATE bulwark_retention_subjects SET warned = $3 WHERE id = $1 AND version = $2 AND warned = $4 AND erased_at = 0 AND ` + fenceOK("5")),
		readWarned:   s.query(`SELECT version, erased_at, warned FROM bulwark_retention_subjects WHERE id = $1`),
		hold:         s.query(`UPDATE bulwark_retention_subjects SET hold_reason = $2, hold_since = $3 WHERE id = $1 AND erased_at = 0`),
		state:        s.query(`SELECT version, erased_at, hold_reason FROM bulwark_retention_subjects WHERE id = $1`),
		begin:        s.query(`INSERT INTO bulwark_retention_erasures (id, subject, rule, fence, started_at) SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT) FROM bulwark_retention_subjects WHERE id = $2 AND erased_at = 0 AND hold_reason = '' AND (CAST($6 AS BIGINT) = 0 OR version = CAST($6 AS BIGINT)) AND ` + fenceOK("4") + lockSuffix + ` ON CONFLICT DO NOTHING`),
		openErasure:  s.query(`SELECT id, subject, rule, fence, started_at, finished_at, done FROM bulwark_retention_erasures WHERE subject = $1 AND finished_at = 0`),
		raiseFence:   s.query(`UPDATE bulwark_retention_erasures SET fence = $2 WHERE id = $1 AND finished_at = 0 AND fence <= $2 AND ` + fenceOK("2")),
		step:         s.query(`UPDATE bulwark_retention_erasures SET done = CASE WHEN done = '' THEN $3 ELSE done || ',' || $3 END WHERE id = $1 AND finished_at = 0 AND fence <= $2 AND ` + fenceOK("2")),
		finish:       s.query(`UPDATE bulwark_retention_erasures SET finished_at = $3 WHERE id = $1 AND finished_at = 0 AND fence <= $2 AND ` + fenceOK("2") + ` RETURNING subject`),
		tombstone:    s.query(`UPDATE bulwark_retention_subjects SET state = '', since = 0, last_active = 0, has_key = 0, hold_reason = '', hold_since = 0, warned = '', suspended_at = 0, closed_at = 0, erased_at = $2, receipt = $3 WHERE id = $1`),
		erasureState: s.query(`SELECT fence, finished_at FROM bulwark_retention_erasures WHERE id = $1`),
		pending:      s.query(`SELECT id, subject, rule, fence, started_at, finished_at, done FROM bulwark_retention_erasures WHERE finished_at = 0 ORDER BY id LIMIT $1`),
		lockFence:    s.postgresOnly(`INSERT INTO bulwark_retention_locks (job, fence) VALUES ($1, GREATEST($2, (SELECT fence FROM bulwark_retention_fence WHERE one = 1) + 1)) ON CONFLICT (job) DO UPDATE SET fence = GREATEST(bulwark_retention_locks.fence, (SELECT fence FROM bulwark_retention_fence WHERE one = 1)) + 1 RETURNING fence`),
		advanceFence: s.query(`UPDATE bulwark_retention_fence SET fence = $1 WHERE one = 1 AND fence <= $1`),
		readFence:    s.query(`SELECT fence FROM bulwark_retention_fence WHERE one = 1`),
		// checkLease runs on the lock's own connection: it fails if the
		// connection died, and is true only while this backend still
		// holds the advisory lock and no later holder has a token.
		checkLease: s.postgresOnly(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
    AND classid = CAST(CAST(hashtext('bulwark.retention') AS BIGINT) & 4294967295 AS OID)
    AND objid = CAST(CAST(hashtext(current_schema() || ':' || $1) AS BIGINT) & 4294967295 AS OID) AND objsubid = 2)
  AND (SELECT fence FROM bulwark_retention_locks WHERE job = $1) = $2
  AND (SELECT fence FROM bulwark_retention_fence WHERE one = 1) <= $2`),
	}
	return &retentionStore{db: s.db, dialect: s.dialect, q: q}
}

func retentionBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func retentionSplit(s string) []string { return retentionSplitInto(nil, s) }

// retentionSplitInto splits the comma-separated list s into dst[:0],
// dropping repeats; it returns nil for an empty list.
func retentionSplitInto(dst []string, s string) []string {
	if s == "" {
		return nil
	}
	out := dst[:0]
	for {
		x, rest, more := strings.Cut(s, ",")
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
		if !more {
			return out
		}
		s = rest
	}
}

type retentionScanner interface{ Scan(dest ...any) error }

func retentionScanRecord(row retentionScanner) (retention.Record, error) {
	var r retention.Record
	err := newRetentionRow().scan(row, &r)
	return r, err
}

// retentionRow is the scan destination of one subject row, made once per
// query: its pointers go into Scan's []any, so a long scan does not
// allocate them for every row.
type retentionRow struct {
	id, state, holdReason, warned, receipt                    string
	since, last, hasKey, version, holdSince, susp, closed, er int64
	dest                                                      []any
}

func newRetentionRow() *retentionRow {
	x := &retentionRow{}
	x.dest = []any{&x.id, &x.state, &x.since, &x.last, &x.hasKey, &x.version, &x.holdReason, &x.holdSince, &x.warned, &x.susp, &x.closed, &x.er, &x.receipt}
	return x
}

// scan reads a row into r, overwriting every field and reusing r.Warned's
// storage.
func (x *retentionRow) scan(row retentionScanner, r *retention.Record) error {
	if err := row.Scan(x.dest...); err != nil {
		return err
	}
	*r = retention.Record{
		Subject:   retention.Subject{ID: x.id, State: x.state, Since: fromMicros(x.since), LastActive: fromMicros(x.last), HasKey: x.hasKey != 0},
		Version:   x.version,
		Hold:      retention.Hold{Reason: x.holdReason, Since: fromMicros(x.holdSince)},
		Warned:    retentionSplitInto(r.Warned, x.warned),
		Suspended: fromMicros(x.susp), Closed: fromMicros(x.closed), Erased: fromMicros(x.er),
		Receipt: x.receipt,
	}
	return nil
}

func retentionScanErasure(row retentionScanner) (retention.Erasure, error) {
	var e retention.Erasure
	var started, finished int64
	var done string
	if err := row.Scan(&e.ID, &e.Subject, &e.Rule, &e.Fence, &started, &finished, &done); err != nil {
		return e, err
	}
	e.Started, e.Finished, e.Done = fromMicros(started), fromMicros(finished), retentionSplit(done)
	return e, nil
}

func retentionErr(op string, err error) error {
	return fmt.Errorf("sqlstore: retention %s: %w", op, err)
}

// PutSubject implements [retention.SubjectStore].
func (s *retentionStore) PutSubject(ctx context.Context, sub retention.Subject) error {
	var v int64
	err := s.db.QueryRowContext(ctx, s.q.put, sub.ID, sub.State, micros(sub.Since), micros(sub.LastActive), retentionBool(sub.HasKey)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.ErrErased
	}
	if err != nil {
		return retentionErr("put", err)
	}
	return nil
}

// GetSubject implements [retention.SubjectStore].
func (s *retentionStore) GetSubject(ctx context.Context, id string) (retention.Record, error) {
	r, err := retentionScanRecord(s.db.QueryRowContext(ctx, s.q.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return retention.Record{}, retention.ErrNotFound
	}
	if err != nil {
		return retention.Record{}, retentionErr("get", err)
	}
	return r, nil
}

// ListSubjects implements [retention.SubjectStore]: the rows are scanned
// into buf's records.
func (s *retentionStore) ListSubjects(ctx context.Context, buf []retention.Record, after string, limit int) ([]retention.Record, error) {
	if buf == nil {
		buf = make([]retention.Record, 0, max(min(limit, 10000), 0))
	}
	rows, err := s.db.QueryContext(ctx, s.q.list, after, limit)
	if err != nil {
		return nil, retentionErr("list", err)
	}
	defer rows.Close()
	out := buf[:0]
	row := newRetentionRow()
	for rows.Next() {
		if len(out) < cap(out) {
			out = out[:len(out)+1]
		} else {
			out = append(out, retention.Record{})
		}
		if err := row.scan(rows, &out[len(out)-1]); err != nil {
			return nil, retentionErr("list", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, retentionErr("list", err)
	}
	return out, nil
}

// why explains a refused update of subject id: missing, erased, or (when
// version is not zero) changed. It returns nil if none applies.
func (s *retentionStore) why(ctx context.Context, id string, version int64) error {
	var v, erased int64
	var hold string
	err := s.db.QueryRowContext(ctx, s.q.state, id).Scan(&v, &erased, &hold)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return retention.ErrNotFound
	case err != nil:
		return retentionErr("read", err)
	case erased != 0:
		return retention.ErrErased
	case version != 0 && v != version:
		return retention.ErrChanged
	}
	return nil
}

// MarkAction implements [retention.MarkStore].
func (s *retentionStore) MarkAction(ctx context.Context, id string, version int64, m retention.Mark) error {
	if m.Action == retention.Warn {
		return s.markWarned(ctx, id, version, m.Key, m.Fence)
	}
	res, err := s.db.ExecContext(ctx, s.q.markTime, id, version, string(m.Action), micros(m.At), m.Fence)
	if err != nil {
		return retentionErr("mark", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return retentionErr("mark", err)
	} else if n == 0 {
		if err := s.stale(ctx, m.Fence); err != nil {
			return err
		}
		if err := s.why(ctx, id, version); err != nil {
			return err
		}
		return retention.ErrChanged
	}
	return nil
}

// markWarned adds key to the warned list with compare-and-set, retrying a
// few times if another writer changed the list meanwhile.
func (s *retentionStore) markWarned(ctx context.Context, id string, version int64, key string, fence int64) error {
	for range 8 {
		if err := s.stale(ctx, fence); err != nil {
			return err
		}
		var v, erased int64
		var warned string
		err := s.db.QueryRowContext(ctx, s.q.readWarned, id).Scan(&v, &erased, &warned)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return retention.ErrNotFound
		case err != nil:
			return retentionErr("mark", err)
		case erased != 0:
			return retention.ErrErased
		case v != version:
			return retention.ErrChanged
		}
		keys := retentionSplit(warned)
		if slices.Contains(keys, key) {
			return nil
		}
		res, err := s.db.ExecContext(ctx, s.q.markWarned, id, version, strings.Join(append(keys, key), ","), warned, fence)
		if err != nil {
			return retentionErr("mark", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return retentionErr("mark", err)
		} else if n == 1 {
			return nil
		}
	}
	return retentionErr("mark", errors.New("too much contention on one subject"))
}

// SetHold implements [retention.MarkStore].
func (s *retentionStore) SetHold(ctx context.Context, id string, h retention.Hold) error {
	if h.Reason == "" {
		h = retention.Hold{}
	}
	res, err := s.db.ExecContext(ctx, s.q.hold, id, h.Reason, micros(h.Since))
	if err != nil {
		return retentionErr("hold", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return retentionErr("hold", err)
	} else if n == 0 {
		if err := s.why(ctx, id, 0); err != nil {
			return err
		}
		return retention.ErrNotFound
	}
	return nil
}

// BeginErasure implements [retention.ErasureStore].
func (s *retentionStore) BeginErasure(ctx context.Context, e retention.Erasure) (retention.Erasure, error) {
	for range 4 {
		res, err := s.db.ExecContext(ctx, s.q.begin, e.ID, e.Subject, e.Rule, e.Fence, micros(e.Started), e.SubjectVersion)
		if err != nil {
			return retention.Erasure{}, retentionErr("begin erasure", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return retention.Erasure{}, retentionErr("begin erasure", err)
		}
		if n == 1 {
			out := e
			out.SubjectVersion, out.Finished, out.Done = 0, time.Time{}, nil
			return out, nil
		}
		if err := s.stale(ctx, e.Fence); err != nil {
			return retention.Erasure{}, err
		}
		cur, err := retentionScanErasure(s.db.QueryRowContext(ctx, s.q.openErasure, e.Subject))
		if err == nil {
			res, err := s.db.ExecContext(ctx, s.q.raiseFence, cur.ID, e.Fence)
			if err != nil {
				return retention.Erasure{}, retentionErr("begin erasure", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return retention.Erasure{}, retentionErr("begin erasure", err)
			} else if n == 0 {
				if err := s.whyErasure(ctx, cur.ID, e.Fence); err != nil && !errors.Is(err, retention.ErrNotFound) {
					return retention.Erasure{}, err
				}
				continue // finished meanwhile: look again
			}
			cur.Fence = e.Fence
			return cur, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return retention.Erasure{}, retentionErr("begin erasure", err)
		}
		var v, erased int64
		var hold string
		err = s.db.QueryRowContext(ctx, s.q.state, e.Subject).Scan(&v, &erased, &hold)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return retention.Erasure{}, retention.ErrNotFound
		case err != nil:
			return retention.Erasure{}, retentionErr("begin erasure", err)
		case erased != 0:
			return retention.Erasure{}, retention.ErrErased
		case hold != "":
			return retention.Erasure{}, retention.ErrOnHold
		case e.SubjectVersion != 0 && v != e.SubjectVersion:
			return retention.Erasure{}, retention.ErrChanged
		}
		// The state moved under us (an erasure finished, a hold lifted):
		// try again.
	}
	return retention.Erasure{}, retentionErr("begin erasure", errors.New("too much contention on one subject"))
}

// whyErasure explains a refused update of erasure id.
func (s *retentionStore) whyErasure(ctx context.Context, id string, fence int64) error {
	if err := s.stale(ctx, fence); err != nil {
		return err
	}
	var f, finished int64
	err := s.db.QueryRowContext(ctx, s.q.erasureState, id).Scan(&f, &finished)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && finished != 0):
		return retention.ErrNotFound
	case err != nil:
		return retentionErr("erasure", err)
	case fence < f:
		return retention.ErrFenced
	}
	return nil
}

// StepErasure implements [retention.ErasureStore].
func (s *retentionStore) StepErasure(ctx context.Context, id string, fence int64, step string) error {
	res, err := s.db.ExecContext(ctx, s.q.step, id, fence, step)
	if err != nil {
		return retentionErr("step erasure", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return retentionErr("step erasure", err)
	} else if n == 0 {
		if err := s.whyErasure(ctx, id, fence); err != nil {
			return err
		}
		return retention.ErrNotFound
	}
	return nil
}

// FinishErasure implements [retention.ErasureStore].
func (s *retentionStore) FinishErasure(ctx context.Context, id string, fence int64, at time.Time) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return retentionErr("finish erasure", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var subject string
	err = tx.QueryRowContext(ctx, s.q.finish, id, fence, micros(at)).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		_ = tx.Rollback()
		if err := s.whyErasure(ctx, id, fence); err != nil {
			return err
		}
		return retention.ErrNotFound
	}
	if err != nil {
		return retentionErr("finish erasure", err)
	}
	if _, err = tx.ExecContext(ctx, s.q.tombstone, subject, micros(at), id); err != nil {
		return retentionErr("finish erasure", err)
	}
	if err = tx.Commit(); err != nil {
		return retentionErr("finish erasure", err)
	}
	return nil
}

// PendingErasures implements [retention.ErasureStore].
func (s *retentionStore) PendingErasures(ctx context.Context, limit int) ([]retention.Erasure, error) {
	rows, err := s.db.QueryContext(ctx, s.q.pending, limit)
	if err != nil {
		return nil, retentionErr("pending erasures", err)
	}
	defer rows.Close()
	var out []retention.Erasure
	for rows.Next() {
		e, err := retentionScanErasure(rows)
		if err != nil {
			return nil, retentionErr("pending erasures", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, retentionErr("pending erasures", err)
	}
	return out, nil
}

// AdvanceFence implements [retention.FenceStore].
func (s *retentionStore) AdvanceFence(ctx context.Context, fence int64) error {
	res, err := s.db.ExecContext(ctx, s.q.advanceFence, fence)
	if err != nil {
		return retentionErr("advance fence", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return retentionErr("advance fence", err)
	} else if n == 0 {
		return retention.ErrFenced
	}
	return nil
}

// stale returns [retention.ErrFenced] if fence is not 0 and below the
// newest lock holder's token: it explains a refused write.
func (s *retentionStore) stale(ctx context.Context, fence int64) error {
	if fence == 0 {
		return nil
	}
	var cur int64
	if err := s.db.QueryRowContext(ctx, s.q.readFence).Scan(&cur); err != nil {
		return retentionErr("read fence", err)
	}
	if fence < cur {
		return retention.ErrFenced
	}
	return nil
}

// ErrRetentionLockUnsupported is returned by [RetentionStore]'s Acquire on
// SQLite, which has no lock that outlives a transaction; a single-process
// SQLite app uses [retention.LocalLocker].
var ErrRetentionLockUnsupported = errors.New("sqlstore: the retention lock needs PostgreSQL")

// Acquire implements [retention.Locker] with a PostgreSQL session-level
// advisory lock (pg_try_advisory_lock) held on a dedicated connection,
// keyed by the current schema and job. The fencing token comes from a
// counter row in bulwark_retention_locks, incremented under the lock, so
// each holder's token is higher than every earlier one. The counter is
// seeded with the time in microseconds, as redisstore's is, so its tokens
// start above those of a [retention.LocalLocker] used before it, and the
// erasures that lock left unfinished still resume, and above the token
// recorded by [retention.FenceStore.AdvanceFence] (which a Redis lock may have
// raised). If the connection dies the server releases the lock at once;
// ttl is not needed and ignored.
//
// The holder is not told when that happens. [retention.Lease.Check], which
// the scheduler calls before each call into host code, asks on the lock's
// own connection whether that backend still holds the advisory lock and
// whether the token is still the newest; it fails if the connection died.
func (s *retentionStore) Acquire(ctx context.Context, job string, _ time.Duration) (retention.Lease, error) {
	if s.dialect != Postgres {
		return nil, ErrRetentionLockUnsupported
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, retentionErr("lock", err)
	}
	const key = `hashtext('bulwark.retention'), hashtext(current_schema() || ':' || $1)`
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, job).Scan(&ok); err != nil {
		retentionDiscard(conn)
		return nil, retentionErr("lock", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("%w: %s", retention.ErrLocked, job)
	}
	l := &retentionLease{conn: conn, job: job, unlock: `SELECT pg_advisory_unlock(` + key + `)`, check: s.q.checkLease}
	if err := conn.QueryRowContext(ctx, s.q.lockFence, job, time.Now().UnixMicro()).Scan(&l.fence); err != nil {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, retentionErr("lock fence", err)
	}
	return l, nil
}

// retentionDiscard closes conn's underlying connection instead of
// returning it to the pool, so a lock it may hold dies with it.
func retentionDiscard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

type retentionLease struct {
	conn   *sql.Conn
	job    string
	unlock string
	check  string
	fence  int64
	once   sync.Once
	err    error
}

func (l *retentionLease) Fence() int64 { return l.fence }

// Check implements [retention.Lease]: one query on the lock's own
// connection, which fails if that connection died.
func (l *retentionLease) Check(ctx context.Context) error {
	var ok bool
	if err := l.conn.QueryRowContext(ctx, l.check, l.job, l.fence).Scan(&ok); err != nil {
		return fmt.Errorf("%w: %w", retention.ErrLockLost, retentionErr("check lock", err))
	}
	if !ok {
		return fmt.Errorf("%w: %s", retention.ErrLockLost, l.job)
	}
	return nil
}

func (l *retentionLease) Release(ctx context.Context) error {
	l.once.Do(func() {
		var ok bool
		if err := l.conn.QueryRowContext(ctx, l.unlock, l.job).Scan(&ok); err != nil || !ok {
			// Never return a connection that may still hold the lock to
			// the pool.
			retentionDiscard(l.conn)
			if err != nil {
				l.err = retentionErr("unlock", err)
			}
			return
		}
		l.err = l.conn.Close()
	})
	return l.err
}

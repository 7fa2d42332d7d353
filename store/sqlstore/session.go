package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/session"
)

var (
	_ session.Store   = (*sessionStore)(nil)
	_ session.Cleaner = (*sessionStore)(nil)
)

// sessionStore is the store [Store.Session] returns.
type sessionStore struct {
	db *sql.DB
	q  sessionQueries
}

type sessionQueries struct {
	lock, replace, prune, liveIDs, list, insert, get, touch, deleteByHash, deleteFamily,
	deleteByID, keepFamily, deleteUser, deleteUserFamilies, insertRemember,
	useRemember, readRemember, deleteRemember, deleteFamilySessions, cleanSessions, cleanRemember, mark string
}

const sessionCols = `id, token_hash, user_id, created_at, last_seen, expires_at, absolute_expiry, auth_time, factors, ip, user_agent, remember_family, closing_at`

// Session returns the session store on s. Call [Store.Migrate] first.
//
// The store is the [session.Store] on PostgreSQL or SQLite, in the
// tables bulwark_session_sessions and bulwark_session_remember. Get, the
// whole cost of most validations, is one query with one argument that
// returns the row packed into one text value (20 allocations per
// validation on PostgreSQL, against 17 for a bare one-column select);
// writes that must be atomic run in one transaction. The
// single-session rule serialises the logins of one user: on PostgreSQL
// with pg_advisory_xact_lock on the user id, on SQLite because the
// transaction's first statement is a write, which takes the database's
// write lock. Expired rows are filtered on read and deleted by
// DeleteExpired ([session.Cleaner]), which [session.Manager.Cleanup] calls.
func (s *Store) Session() session.Store {
	greatest, skipLocked := "GREATEST", " FOR UPDATE SKIP LOCKED"
	if s.dialect == SQLite {
		greatest, skipLocked = "MAX", "" // SQLite has one writer at a time
	}
	q := sessionQueries{
		lock:    s.postgresOnly(`SELECT pg_advisory_xact_lock(hashtextextended('bulwark.session:' || $1, 0))`),
		replace: s.query(`DELETE FROM bulwark_session_sessions WHERE user_id = $1 AND token_hash = $2 AND expires_at > $3`),
		prune:   s.query(`DELETE FROM bulwark_session_sessions WHERE user_id = $1 AND expires_at <= $2`),
		liveIDs: s.query(`SELECT id, remember_family FROM bulwark_session_sessions WHERE user_id = $1 ORDER BY created_at, id`),
		insert: s.query(`INSERT INTO bulwark_session_sessions (` + sessionCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
		list: s.query(`SELECT ` + sessionCols + ` FROM bulwark_session_sessions
			WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`),
		get:  s.query(`SELECT ` + sessionPacked(s.dialect) + ` FROM bulwark_session_sessions WHERE token_hash = $1`),
		mark: s.query(`UPDATE bulwark_session_sessions SET closing_at = $3, expires_at = $4 WHERE token_hash = $1 AND expires_at > $2`),
		// A marked session keeps the mark's expiry (see session.Store.Touch).
		touch: s.query(`UPDATE bulwark_session_sessions SET last_seen = ` + greatest + `(last_seen, $2),
			expires_at = CASE WHEN closing_at = 0 THEN ` + greatest + `(expires_at, $3) ELSE expires_at END
			WHERE token_hash = $1 AND expires_at > $2`),
		deleteByHash:       s.query(`DELETE FROM bulwark_session_sessions WHERE token_hash = $1 RETURNING ` + sessionCols),
		deleteFamily:       s.query(`DELETE FROM bulwark_session_remember WHERE family = $1`),
		deleteByID:         s.query(`DELETE FROM bulwark_session_sessions WHERE user_id = $1 AND id = $2 RETURNING remember_family`),
		keepFamily:         s.query(`SELECT remember_family FROM bulwark_session_sessions WHERE user_id = $1 AND id = $2`),
		deleteUser:         s.query(`DELETE FROM bulwark_session_sessions WHERE user_id = $1 AND id <> $2`),
		deleteUserFamilies: s.query(`DELETE FROM bulwark_session_remember WHERE user_id = $1 AND family <> $2`),
		insertRemember: s.query(`INSERT INTO bulwark_session_remember (token_hash, family, user_id, auth_time, created_at, expires_at, used_at)
			VALUES ($1, $2, $3, $4, $5, $6, 0)`),
		useRemember: s.query(`UPDATE bulwark_session_remember SET used_at = $2
			WHERE token_hash = $1 AND used_at = 0 AND expires_at > $2
			RETURNING family, user_id, auth_time, created_at, expires_at`),
		readRemember: s.query(`SELECT family, user_id, auth_time, created_at, expires_at, used_at
			FROM bulwark_session_remember WHERE token_hash = $1 AND expires_at > $2`),
		deleteRemember:       s.query(`DELETE FROM bulwark_session_remember WHERE token_hash = $1 RETURNING family, user_id`),
		deleteFamilySessions: s.query(`DELETE FROM bulwark_session_sessions WHERE user_id = $1 AND remember_family = $2`),
		// Batches through the expiry index. The outer condition is checked
		// again on each row, so a row touched meanwhile is kept; on
		// PostgreSQL, rows another transaction holds are skipped, not
		// waited for, so a cleanup never queues behind a long transaction
		// and concurrent cleaners share the work.
		cleanSessions: s.query(`DELETE FROM bulwark_session_sessions WHERE expires_at <= $1 AND id IN
			(SELECT id FROM bulwark_session_sessions WHERE expires_at <= $1 LIMIT $2` + skipLocked + `)`),
		cleanRemember: s.query(`DELETE FROM bulwark_session_remember WHERE expires_at <= $1 AND token_hash IN
			(SELECT token_hash FROM bulwark_session_remember WHERE expires_at <= $1 LIMIT $2` + skipLocked + `)`),
	}
	return &sessionStore{db: s.db, q: q}
}

// sessionPacked is an expression that packs a session row into one text
// value, so that Get scans one column: database/sql costs a few
// allocations per column scanned, which made them most of a validation's.
// The layout, which [sessionUnpack] reads: the six times in microseconds,
// each followed by ",", the token hash in hex and ",", then id, user_id,
// factors, ip, user_agent and remember_family each as its length in bytes,
// ":", and the bytes. The lengths make it unambiguous whatever the
// strings hold (the user agent is the client's).
func sessionPacked(d Dialect) string {
	// PostgreSQL's concat builds the value in one pass, where a chain of
	// || makes a new string at each step; SQLite's || is cheap.
	open, sep, end := `concat(`, `, `, `)`
	hexHash, octets := `encode(token_hash, 'hex')`, `octet_length(%s)`
	if d == SQLite {
		open, sep, end = ``, ` || `, ``
		hexHash, octets = `lower(hex(token_hash))`, `length(CAST(%s AS BLOB))`
	}
	parts := make([]string, 0, 32)
	for _, c := range []string{"created_at", "last_seen", "expires_at", "absolute_expiry", "auth_time", "closing_at"} {
		parts = append(parts, c, `','`)
	}
	parts = append(parts, hexHash, `','`)
	for _, c := range []string{"id", "user_id", "factors", "ip", "user_agent", "remember_family"} {
		parts = append(parts, fmt.Sprintf(octets, c), `':'`, c)
	}
	return open + strings.Join(parts, sep) + end
}

var errSessionPacked = errors.New("sqlstore: session: malformed record")

// sessionUnpack reads what sessionPacked makes. The session's strings
// share row's memory; it allocates only the factors slice.
func sessionUnpack(row string) (session.Session, error) {
	var s session.Session
	var times [6]int64
	for i := range times {
		num, rest, ok := strings.Cut(row, ",")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return session.Session{}, errSessionPacked
		}
		times[i], row = n, rest
	}
	const hexLen = 2 * len(s.TokenHash)
	if len(row) < hexLen+1 || row[hexLen] != ',' {
		return session.Session{}, errSessionPacked
	}
	for i := range s.TokenHash {
		hi, ok1 := unhex(row[2*i])
		lo, ok2 := unhex(row[2*i+1])
		if !ok1 || !ok2 {
			return session.Session{}, errSessionPacked
		}
		s.TokenHash[i] = hi<<4 | lo
	}
	row = row[hexLen+1:]
	var factors string
	for _, p := range []*string{&s.ID, &s.UserID, &factors, &s.IP, &s.UserAgent, &s.RememberFamily} {
		num, rest, ok := strings.Cut(row, ":")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 || n > len(rest) {
			return session.Session{}, errSessionPacked
		}
		*p, row = rest[:n], rest[n:]
	}
	if row != "" {
		return session.Session{}, errSessionPacked
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt = fromMicros(times[0]), fromMicros(times[1]), fromMicros(times[2])
	s.AbsoluteExpiry, s.AuthTime, s.Closing = fromMicros(times[3]), fromMicros(times[4]), fromMicros(times[5])
	if factors != "" {
		s.Factors = strings.Split(factors, factorSep)
	}
	return s, nil
}

// unhex decodes one lowercase or uppercase hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// factorSep separates factor names in the factors column.
const factorSep = "\x1f"

type sessionScanner interface{ Scan(dest ...any) error }

func sessionScanRow(r sessionScanner) (session.Session, error) {
	var (
		s                                      session.Session
		hash                                   []byte
		created, seen, exp, abs, auth, closing int64
		factors                                string
	)
	if err := r.Scan(&s.ID, &hash, &s.UserID, &created, &seen, &exp, &abs, &auth, &factors, &s.IP, &s.UserAgent, &s.RememberFamily, &closing); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.Session{}, session.ErrNotFound
		}
		return session.Session{}, err
	}
	if len(hash) != len(s.TokenHash) {
		return session.Session{}, fmt.Errorf("sqlstore: session %s: malformed token hash", s.ID)
	}
	copy(s.TokenHash[:], hash)
	s.CreatedAt, s.LastSeen, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(exp)
	s.AbsoluteExpiry, s.AuthTime, s.Closing = fromMicros(abs), fromMicros(auth), fromMicros(closing)
	if factors != "" {
		s.Factors = strings.Split(factors, factorSep)
	}
	return s, nil
}

// sessionTx runs fn in a transaction, committing if it returns nil or
// keep (an error that must still commit, such as ErrReused).
func (st *sessionStore) sessionTx(ctx context.Context, keep error, fn func(tx *sql.Tx) error) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: session: begin: %w", err)
	}
	ferr := fn(tx)
	if ferr != nil && (keep == nil || !errors.Is(ferr, keep)) {
		_ = tx.Rollback()
		return ferr
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: session: commit: %w", err)
	}
	return ferr
}

// Create implements [session.Store].
func (st *sessionStore) Create(ctx context.Context, s *session.Session, lim session.Limit, replaces [32]byte) ([]string, error) {
	var evicted []string
	err := st.sessionTx(ctx, nil, func(tx *sql.Tx) error {
		if err := st.sessionLock(ctx, tx, s.UserID); err != nil {
			return err
		}
		// On SQLite these writes take the write lock before anything is read.
		if replaces != ([32]byte{}) {
			// A rotation of a session revoked or expired meanwhile stores nothing.
			res, err := tx.ExecContext(ctx, st.q.replace, s.UserID, replaces[:], micros(s.CreatedAt))
			if err != nil {
				return fmt.Errorf("sqlstore: session: replace: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("sqlstore: session: replace: %w", err)
			} else if n == 0 {
				return session.ErrNotFound
			}
		}
		if _, err := tx.ExecContext(ctx, st.q.prune, s.UserID, micros(s.CreatedAt)); err != nil {
			return fmt.Errorf("sqlstore: session: prune: %w", err)
		}
		if lim.Max > 0 {
			var err error
			if evicted, err = st.sessionEnforce(ctx, tx, s.UserID, lim); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, st.q.insert, s.ID, s.TokenHash[:], s.UserID, micros(s.CreatedAt), micros(s.LastSeen),
			micros(s.ExpiresAt), micros(s.AbsoluteExpiry), micros(s.AuthTime), strings.Join(s.Factors, factorSep),
			s.IP, s.UserAgent, s.RememberFamily, micros(s.Closing))
		if err != nil {
			return fmt.Errorf("sqlstore: session: insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return evicted, nil
}

// sessionLock takes the per-user lock on PostgreSQL (SQLite serialises
// writers by itself). Create takes it, and so do the revocations by user:
// under READ COMMITTED a DELETE does not see a row that a concurrent
// Create commits after the DELETE began, so without the lock "end all
// sessions" could miss a session that a rotation or login was inserting.
func (st *sessionStore) sessionLock(ctx context.Context, tx *sql.Tx, userID string) error {
	if st.q.lock == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, st.q.lock, userID); err != nil {
		return fmt.Errorf("sqlstore: session: lock: %w", err)
	}
	return nil
}

// sessionEnforce applies lim to the user's live sessions inside tx.
func (st *sessionStore) sessionEnforce(ctx context.Context, tx *sql.Tx, userID string, lim session.Limit) ([]string, error) {
	rows, err := tx.QueryContext(ctx, st.q.liveIDs, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: session: count: %w", err)
	}
	var live [][2]string
	for rows.Next() {
		var id, fam string
		if err := rows.Scan(&id, &fam); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("sqlstore: session: count: %w", err)
		}
		live = append(live, [2]string{id, fam})
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: session: count: %w", err)
	}
	if len(live) < lim.Max {
		return nil, nil
	}
	if !lim.ReplaceOld {
		return nil, session.ErrLimit
	}
	var evicted []string
	for _, o := range live[:len(live)-lim.Max+1] {
		if err := st.sessionDeleteID(ctx, tx, userID, o[0]); err != nil {
			return nil, err
		}
		evicted = append(evicted, o[0])
	}
	return evicted, nil
}

// sessionDeleteID deletes one session of the user, with its family.
func (st *sessionStore) sessionDeleteID(ctx context.Context, tx *sql.Tx, userID, id string) error {
	var fam string
	err := tx.QueryRowContext(ctx, st.q.deleteByID, userID, id).Scan(&fam)
	if errors.Is(err, sql.ErrNoRows) {
		return session.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlstore: session: delete: %w", err)
	}
	return st.sessionDeleteFamily(ctx, tx, fam)
}

func (st *sessionStore) sessionDeleteFamily(ctx context.Context, tx *sql.Tx, fam string) error {
	if fam == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, st.q.deleteFamily, fam); err != nil {
		return fmt.Errorf("sqlstore: session: delete remember-me: %w", err)
	}
	return nil
}

// Get implements [session.Store]. It is one query of one column (see
// sessionPacked); expiry is judged here, so the query has one argument.
func (st *sessionStore) Get(ctx context.Context, hash [32]byte, now time.Time) (session.Session, error) {
	var row string
	err := st.db.QueryRowContext(ctx, st.q.get, hash[:]).Scan(&row)
	if errors.Is(err, sql.ErrNoRows) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		return session.Session{}, fmt.Errorf("sqlstore: session: get: %w", err)
	}
	s, err := sessionUnpack(row)
	if err != nil {
		return session.Session{}, err
	}
	if s.TokenHash != hash || !now.Before(s.ExpiresAt) {
		return session.Session{}, session.ErrNotFound
	}
	return s, nil
}

// Touch implements [session.Store]. It is one statement.
func (st *sessionStore) Touch(ctx context.Context, hash [32]byte, now, expires time.Time) error {
	return st.execOne(ctx, "touch", st.q.touch, hash[:], micros(now), micros(expires))
}

// execOne runs a statement that updates one live session, and returns
// [session.ErrNotFound] if it updated none.
func (st *sessionStore) execOne(ctx context.Context, op, q string, args ...any) error {
	res, err := st.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: session: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: session: %s: %w", op, err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// MarkClosing implements [session.Store]. It is one statement.
func (st *sessionStore) MarkClosing(ctx context.Context, hash [32]byte, now, closing, expires time.Time) error {
	return st.execOne(ctx, "mark closing", st.q.mark, hash[:], micros(now), micros(closing), micros(expires))
}

// Delete implements [session.Store].
func (st *sessionStore) Delete(ctx context.Context, hash [32]byte) (session.Session, error) {
	var s session.Session
	err := st.sessionTx(ctx, nil, func(tx *sql.Tx) error {
		var err error
		if s, err = sessionScanRow(tx.QueryRowContext(ctx, st.q.deleteByHash, hash[:])); err != nil {
			if errors.Is(err, session.ErrNotFound) {
				return err
			}
			return fmt.Errorf("sqlstore: session: delete: %w", err)
		}
		return st.sessionDeleteFamily(ctx, tx, s.RememberFamily)
	})
	if err != nil {
		return session.Session{}, err
	}
	return s, nil
}

// List implements [session.Store].
func (st *sessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Session, error) {
	rows, err := st.db.QueryContext(ctx, st.q.list, userID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: session: list: %w", err)
	}
	defer rows.Close()
	var out []session.Session
	for rows.Next() {
		s, err := sessionScanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: session: list: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: session: list: %w", err)
	}
	return out, nil
}

// Revoke implements [session.Store].
func (st *sessionStore) Revoke(ctx context.Context, userID, id string) error {
	return st.sessionTx(ctx, nil, func(tx *sql.Tx) error {
		if err := st.sessionLock(ctx, tx, userID); err != nil {
			return err
		}
		return st.sessionDeleteID(ctx, tx, userID, id)
	})
}

// RevokeUser implements [session.Store].
func (st *sessionStore) RevokeUser(ctx context.Context, userID, exceptID string) (int, error) {
	var n int64
	err := st.sessionTx(ctx, nil, func(tx *sql.Tx) error {
		if err := st.sessionLock(ctx, tx, userID); err != nil {
			return err
		}
		// The write comes first, so that SQLite takes its write lock before
		// anything is read.
		res, err := tx.ExecContext(ctx, st.q.deleteUser, userID, exceptID)
		if err != nil {
			return fmt.Errorf("sqlstore: session: revoke: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: session: revoke: %w", err)
		}
		keep := ""
		if exceptID != "" {
			err := tx.QueryRowContext(ctx, st.q.keepFamily, userID, exceptID).Scan(&keep)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlstore: session: revoke: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, st.q.deleteUserFamilies, userID, keep); err != nil {
			return fmt.Errorf("sqlstore: session: revoke remember-me: %w", err)
		}
		return nil
	})
	return int(n), err
}

// CreateRemember implements [session.Store].
func (st *sessionStore) CreateRemember(ctx context.Context, r session.Remember) error {
	_, err := st.db.ExecContext(ctx, st.q.insertRemember, r.Hash[:], r.Family, r.UserID,
		micros(r.AuthTime), micros(r.CreatedAt), micros(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: session: create remember-me: %w", err)
	}
	return nil
}

// RotateRemember implements [session.Store]. The old token is
// claimed with a conditional UPDATE, so of two concurrent rotations only
// one succeeds and the other sees a used token.
func (st *sessionStore) RotateRemember(ctx context.Context, old, next [32]byte, now time.Time) (session.Remember, error) {
	var r session.Remember
	err := st.sessionTx(ctx, session.ErrReused, func(tx *sql.Tx) error {
		var auth, created, exp, used int64
		err := tx.QueryRowContext(ctx, st.q.useRemember, old[:], micros(now)).Scan(&r.Family, &r.UserID, &auth, &created, &exp)
		if err == nil {
			r.Hash, r.AuthTime, r.CreatedAt, r.ExpiresAt = old, fromMicros(auth), fromMicros(created), fromMicros(exp)
			_, err = tx.ExecContext(ctx, st.q.insertRemember, next[:], r.Family, r.UserID, auth, micros(now), exp)
			if err != nil {
				return fmt.Errorf("sqlstore: session: rotate remember-me: %w", err)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: session: rotate remember-me: %w", err)
		}
		err = tx.QueryRowContext(ctx, st.q.readRemember, old[:], micros(now)).Scan(&r.Family, &r.UserID, &auth, &created, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: session: rotate remember-me: %w", err)
		}
		r.Hash, r.AuthTime, r.CreatedAt, r.ExpiresAt = old, fromMicros(auth), fromMicros(created), fromMicros(exp)
		// Reuse: someone else holds a copy of this family's tokens.
		if err := st.sessionRevokeFamily(ctx, tx, r.UserID, r.Family); err != nil {
			return err
		}
		return session.ErrReused
	})
	if errors.Is(err, session.ErrReused) {
		return r, err
	}
	if err != nil {
		return session.Remember{}, err
	}
	return r, nil
}

// sessionRevokeFamily deletes a family and the user's sessions started
// from it.
func (st *sessionStore) sessionRevokeFamily(ctx context.Context, tx *sql.Tx, userID, fam string) error {
	if _, err := tx.ExecContext(ctx, st.q.deleteFamilySessions, userID, fam); err != nil {
		return fmt.Errorf("sqlstore: session: revoke remember-me family: %w", err)
	}
	return st.sessionDeleteFamily(ctx, tx, fam)
}

// RevokeRemember implements [session.Store].
func (st *sessionStore) RevokeRemember(ctx context.Context, hash [32]byte) error {
	return st.sessionTx(ctx, nil, func(tx *sql.Tx) error {
		var fam, user string
		err := tx.QueryRowContext(ctx, st.q.deleteRemember, hash[:]).Scan(&fam, &user)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: session: revoke remember-me: %w", err)
		}
		return st.sessionRevokeFamily(ctx, tx, user, fam)
	})
}

// DeleteExpired implements [session.Cleaner]: it deletes at most batch
// expired sessions, then expired remember-me tokens up to the same total.
func (st *sessionStore) DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	total := 0
	for _, q := range []string{st.q.cleanSessions, st.q.cleanRemember} {
		if total >= batch {
			break
		}
		res, err := st.db.ExecContext(ctx, q, micros(now), batch-total)
		if err != nil {
			return total, fmt.Errorf("sqlstore: session: cleanup: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlstore: session: cleanup: %w", err)
		}
		total += int(n)
	}
	return total, nil
}

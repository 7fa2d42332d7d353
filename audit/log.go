package audit

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ErrInvalidEntry is returned by [Log.Append] for an event without a valid
// action (a dotted name of lowercase letters, digits, _ and -), or one whose
// encoding, after the per-field caps, would exceed 1 MiB.
var ErrInvalidEntry = errors.New("audit: invalid event")

// ErrWrite wraps the store's error when [Log.Append] could not make an
// event durable. With Config.FailOpen unset (the default) Append returns
// it and the host must not carry out the audited action.
var ErrWrite = errors.New("audit: write failed")

// Config configures a [Log]. The zero value is valid and means the defaults
// documented on each field.
type Config struct {
	// Now is the clock. Default time.Now. Times are kept in UTC (ASVS
	// 16.2.2) to the microsecond, the precision both SQL dialects store.
	Now func() time.Time
	// Rand is the randomness behind event ids (UUIDv7, RFC 9562). Default
	// crypto/rand.
	Rand io.Reader
	// Redactor decides, for one named value of an entry (a Change field
	// or a Details key), what may enter the log: it returns the value to
	// store and whether it replaced anything. The Log runs it over every
	// change and detail before the entry is hashed, so a secret never
	// reaches the store, an export or a hash input (redaction at the
	// source, ASVS 16.2.5). It must be safe for concurrent use. Default
	// DefaultRedactor: no credentials, secrets or card numbers in the log;
	// a host's own redactor usually calls it first.
	Redactor func(field, value string) (string, bool)
	// Signer signs checkpoints. Default none: without a Signer no
	// checkpoints are written, and truncation of the newest records cannot
	// be detected. Production logs should set one (ASVS 16.4.2).
	Signer Signer
	// Verifier checks checkpoint signatures in Verify. Default: the
	// Signer, when it can verify (a [Key] can). For key rotation, pass
	// [Verifiers] of the current and the retired keys.
	Verifier SignatureVerifier
	// CheckpointEvery is how many records of a stream pass between
	// automatic checkpoints. Default 1024: one signature per thousand
	// records costs nothing measurable, and bounds how many of the newest
	// records a truncation could remove undetected. Quiet streams should
	// also be checkpointed on a timer with Log.Checkpoint.
	CheckpointEvery int
	// MaxBatch caps how many events one store call carries (group commit).
	// Default 256: enough to amortise a commit's fsync, small enough that
	// one statement stays far below SQL parameter limits.
	MaxBatch int
	// Writers is how many group-commit queues a Log keeps; streams are
	// spread over them by hash. Default 1: one queue makes the largest
	// batches, and a batch of many streams costs the SQL store the same
	// five round trips as a batch of one. On PostgreSQL, 32 appenders over
	// 16 tenants measured about 19k events/s with one queue and 12k with
	// four.
	Writers int
	// InFlight is how many batches of one queue may be written at once, so
	// the next batch is on its way while the previous one commits. Stores
	// serialise each stream, so this never forks a chain. Default 1: on
	// PostgreSQL a second batch of the same stream mostly waits for the
	// first one's row lock, and in our measurements smaller batches cost
	// more than the overlap saved. Raise it only after measuring.
	InFlight int
	// FailOpen makes Append swallow store errors (reporting them to
	// OnError) instead of returning them. Default false: an audit write
	// that fails makes the audited action fail (fail closed, ASVS 16.5.3).
	FailOpen bool
	// OnError, if set, is told about errors the caller does not see: a
	// swallowed append error with FailOpen, a failed automatic checkpoint.
	// Errors never carry event contents.
	OnError func(context.Context, error)
}

// Log is an append-only, hash-chained audit log over a [Store]. It is safe
// for concurrent use; appends from many goroutines are batched into few
// store calls (group commit) and each Append returns only once its event is
// durable. Several Logs (in several processes) may share one store: the
// store serialises each stream.
type Log struct {
	store    Store
	cfg      Config
	writers  []*writer
	ids      idSource
	deadline writeDeadline
}

// New returns a Log over store, with cfg's zero fields set to their
// documented defaults. It returns an error for a nil store or a negative
// CheckpointEvery, MaxBatch, Writers or InFlight.
func New(store Store, cfg Config) (*Log, error) {
	if store == nil {
		return nil, errors.New("audit: New with a nil Store")
	}
	if cfg.CheckpointEvery < 0 || cfg.MaxBatch < 0 || cfg.Writers < 0 || cfg.InFlight < 0 {
		return nil, errors.New("audit: negative CheckpointEvery, MaxBatch, Writers or InFlight")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Redactor == nil {
		cfg.Redactor = DefaultRedactor
	}
	if cfg.Verifier == nil {
		if v, ok := cfg.Signer.(SignatureVerifier); ok {
			cfg.Verifier = v
		}
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = defaultCheckpoint
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = defaultBatch
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = 1
	}
	l := &Log{store: store, cfg: cfg, ids: idSource{r: cfg.Rand}}
	for range cfg.Writers {
		l.writers = append(l.writers, &writer{log: l})
	}
	return l, nil
}

// Store returns the store the log writes to.
func (l *Log) Store() Store { return l.store }

func (l *Log) now() time.Time { return l.cfg.Now().UTC().Truncate(time.Microsecond) }

// Append redacts, chains and stores ev, and returns the stored record once
// it is durable. Concurrent Appends are committed together. It returns
// ErrInvalidEntry for a bad action or an oversized event (never swallowed
// by FailOpen) and, unless Config.FailOpen is set, an
// error wrapping ErrWrite when the store fails; the event is then not in
// the log and the caller should fail the audited action.
//
// A ctx already cancelled on entry returns its error and writes nothing;
// once queued, Append waits for the write it joined even if ctx is
// cancelled, so that its answer is always the truth about durability.
func (l *Log) Append(ctx context.Context, ev Entry) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err // nothing written: the caller gave up first
	}
	if err := l.prepare(&ev); err != nil {
		return Record{}, err
	}
	w := l.writers[0]
	if len(l.writers) > 1 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(ev.Tenant))
		w = l.writers[h.Sum32()%uint32(len(l.writers))]
	}
	var rec Record
	err := w.append(ctx, &ev, &rec)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrWrite, err)
		if l.cfg.FailOpen {
			l.report(ctx, err)
			return Record{Entry: ev}, nil
		}
		return Record{}, err
	}
	return rec, nil
}

// AppendTx redacts, validates and chains ev like [Log.Append], but writes
// it through tx, inside a transaction the host holds (store/sqlstore:
// AuditStore.Tx(sqlTx)), instead of through group commit. The record is
// durable when, and only if, the host commits: a change and its record
// commit or roll back together, so the log never holds a change that was
// rolled back or cancelled with its request. Make the change, call
// AppendTx, then commit; if AppendTx fails, roll back (fail closed).
//
// It returns ErrInvalidEntry for a bad event and an error wrapping
// ErrWrite when tx fails; Config.FailOpen does not apply, since the host's
// transaction is then unusable anyway. The record is not checkpointed in
// the transaction (a checkpoint must not vouch for what may roll back);
// automatic checkpoints of later appends and [Log.Checkpoint] cover it.
func (l *Log) AppendTx(ctx context.Context, tx TxAppender, ev Entry) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if err := l.prepare(&ev); err != nil {
		return Record{}, err
	}
	recs, err := tx.Append(ctx, []Entry{ev})
	if err == nil && len(recs) != 1 {
		err = errors.New("audit: store returned a wrong number of records")
	}
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return recs[0], nil
}

func (l *Log) report(ctx context.Context, err error) {
	if l.cfg.OnError != nil {
		l.cfg.OnError(ctx, err)
	}
}

// validAction reports whether a is a stable dotted action name: one or
// more non-empty parts of lowercase letters, digits, _ and -, joined by dots.
func validAction(a string) bool {
	if a == "" || len(a) > 128 {
		return false
	}
	for part := range strings.SplitSeq(a, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !actionByte(c) {
				return false
			}
		}
	}
	return true
}

// prepare fills defaults, cleans strings and redacts, on a copy of the
// caller's slices and map.
func (l *Log) prepare(ev *Entry) error {
	if !validAction(ev.Action) {
		return fmt.Errorf("%w: action must be a dotted lowercase name", ErrInvalidEntry)
	}
	if ev.Time.IsZero() {
		ev.Time = l.now()
	} else {
		ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
	}
	if ev.ID == "" {
		id, err := l.ids.newV7(ev.Time)
		if err != nil {
			return fmt.Errorf("audit: event id: %w", err)
		}
		ev.ID = id.String()
	}
	if ev.Outcome == "" {
		ev.Outcome = Success
	}
	if ev.ActorType == "" && ev.Actor != "" {
		ev.ActorType = actorUser
	}
	for _, p := range [...]*string{&ev.ID, &ev.Tenant, &ev.Actor, &ev.ActorType, &ev.TargetType,
		&ev.TargetID, (*string)(&ev.Outcome), &ev.IP, &ev.RequestID} {
		*p = clean(*p, maxFieldBytes)
	}
	ev.UserAgent = clean(ev.UserAgent, maxUserAgentBytes)
	if len(ev.Changes) > 0 {
		cs := make([]Change, 0, min(len(ev.Changes), maxChanges))
		for _, c := range ev.Changes[:min(len(ev.Changes), maxChanges)] {
			c.Field = clean(c.Field, maxFieldBytes)
			if c.Redacted {
				c.Old, c.New = redactedMarker, redactedMarker
			} else {
				var ro, rn bool
				c.Old, ro = l.cfg.Redactor(c.Field, clean(c.Old, maxFieldBytes))
				c.New, rn = l.cfg.Redactor(c.Field, clean(c.New, maxFieldBytes))
				c.Redacted = ro || rn
			}
			cs = append(cs, c)
		}
		ev.Changes = cs
	}
	if len(ev.Details) > 0 {
		d := make(map[string]string, min(len(ev.Details), maxDetails))
		for _, k := range sortedKeys(ev.Details)[:min(len(ev.Details), maxDetails)] {
			v, _ := l.cfg.Redactor(k, clean(ev.Details[k], maxFieldBytes))
			d[clean(k, maxFieldBytes)] = v
		}
		ev.Details = d
	} else {
		ev.Details = nil
	}
	// The per-field caps still allow an encoding over maxRecordBytes. Such
	// an event would make the store fail the whole group-commit batch it
	// rides in (every other caller's Append with it), so refuse it here.
	if encodedSize(ev) > maxRecordBytes {
		return fmt.Errorf("%w: encoded event over %d bytes", ErrInvalidEntry, maxRecordBytes)
	}
	return nil
}

// encodedSize returns the length of ev's canonical encoding as a record
// with the largest sequence number (see Record.appendBinary).
func encodedSize(ev *Entry) int {
	str := func(s string) int { return uvarintLen(uint64(len(s))) + len(s) }
	n := 1 + binary.MaxVarintLen64 + hashSize + 8
	for _, s := range [...]string{ev.Tenant, ev.ID, ev.Actor, ev.ActorType, ev.Action, ev.TargetType,
		ev.TargetID, string(ev.Outcome), ev.IP, ev.UserAgent, ev.RequestID} {
		n += str(s)
	}
	n += uvarintLen(uint64(len(ev.Changes)))
	for _, c := range ev.Changes {
		n += str(c.Field) + str(c.Old) + str(c.New) + 1
	}
	n += uvarintLen(uint64(len(ev.Details)))
	for k, v := range ev.Details {
		n += str(k) + str(v)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// clean makes s valid UTF-8 and at most n bytes, cut on a rune boundary.
func clean(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// writer runs group commit without a background goroutine. An appender
// that finds nothing queued and a batch slot free (fewer than
// Config.InFlight batches being written) writes its own event at once, as a
// batch of one, with no hand-off at all: the fast path of an uncontended
// log. Otherwise it queues its event; if a slot is free it becomes a
// leader: it takes everything queued (up to MaxBatch), writes it, releases
// those appenders, and repeats until its own event has been taken by some
// leader. Then it hands its leader slot to the first waiting appender, or
// gives it up. Appenders that queue while a batch is written are carried by
// the next one (leader/follower group commit).
type writer struct {
	log      *Log
	mu       sync.Mutex
	queue    []*request
	inflight int
	// contended is set while appenders keep queuing behind writes (the
	// last batch carried more than one event, or others queued during a
	// fast-path write). Then there is no fast path: an appender released
	// by a batch would otherwise write alone the moment it returns, ahead
	// of the others it was released with, and halve the batch size of a
	// busy log.
	contended bool
}

type request struct {
	ev      Entry
	rec     Record
	err     error
	taken   bool          // in a batch (guarded by writer.mu)
	leading bool          // its goroutine is a leader (guarded by writer.mu)
	lead    chan struct{} // promotion to leader
	done    chan struct{} // closed when rec/err are set
}

func (w *writer) append(ctx context.Context, ev *Entry, rec *Record) error {
	w.mu.Lock()
	if len(w.queue) == 0 && w.inflight < w.log.cfg.InFlight && !w.contended {
		// Fast path: nobody to batch with. Write our own event now; those
		// who queue meanwhile are handed the slot when we are done.
		w.inflight++
		w.mu.Unlock()
		err := w.log.commitOne(ctx, ev, rec)
		w.mu.Lock()
		w.contended = len(w.queue) > 0
		w.releaseSlot()
		w.mu.Unlock()
		return err
	}
	r := &request{ev: *ev, lead: make(chan struct{}, 1), done: make(chan struct{})}
	w.queue = append(w.queue, r)
	leader := w.inflight < w.log.cfg.InFlight
	if leader {
		w.inflight++
		r.leading = true
	}
	w.mu.Unlock()
	if !leader {
		select {
		case <-r.done:
			// Another leader wrote our event. If we were promoted in the
			// meantime, the slot we were given must be passed on.
			w.mu.Lock()
			if r.leading {
				w.releaseSlot()
			}
			w.mu.Unlock()
			*rec = r.rec
			return r.err
		case <-r.lead:
		}
	}
	// Yield once, so appenders just released by another batch can queue
	// their next events and ride in this one.
	runtime.Gosched()
	for {
		w.mu.Lock()
		if r.taken {
			w.releaseSlot()
			w.mu.Unlock()
			break
		}
		n := min(len(w.queue), w.log.cfg.MaxBatch)
		batch := w.queue[:n:n]
		w.queue = w.queue[n:]
		w.contended = n > 1
		for _, b := range batch {
			b.taken = true
		}
		w.mu.Unlock()
		w.log.commit(ctx, batch)
		for _, b := range batch {
			close(b.done)
		}
	}
	<-r.done
	*rec = r.rec
	return r.err
}

// releaseSlot passes a leader slot to the first queued appender that is
// not a leader already, or frees it. w.mu is held.
func (w *writer) releaseSlot() {
	for _, q := range w.queue {
		if !q.leading {
			q.leading = true
			q.lead <- struct{}{}
			return
		}
	}
	w.inflight--
}

// writeTimeout bounds one store call: a batch carries other callers'
// events, so it must not depend on the leader's context being cancelled.
const writeTimeout = 30 * time.Second

// writeDeadline hands every store call a context that expires between
// writeTimeout/2 and writeTimeout after the call starts. A fresh
// context.WithTimeout per write cost more than the in-memory store's whole
// Append (five allocations, a timer and a clock read); this one is replaced
// every writeTimeout/2 (a timer marks it stale) and left to expire by
// itself, never cancelled early, since calls may still be using it.
type writeDeadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc // owned here; the context expires on its own
	stale  bool
}

func (d *writeDeadline) get() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.stale {
		d.ctx, d.cancel = context.WithTimeout(context.Background(), writeTimeout) //nolint:gosec // expires by itself: calls may still be using it when it is replaced
		d.stale = false
		time.AfterFunc(writeTimeout/2, func() {
			d.mu.Lock()
			d.stale = true
			d.mu.Unlock()
		})
	}
	return d.ctx
}

// valuesOf is Context (deadline and cancellation) with the values of
// another context, the caller's.
type valuesOf struct {
	context.Context
	values context.Context
}

// Value asks Context first: it holds no values of its own but the
// context package's internal ones, which must come from the context whose
// deadline and cancellation these are (so that contexts derived from this
// one follow it cheaply, and context.Cause is its cause).
func (c valuesOf) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

// idSource makes UUIDv7 event ids (RFC 9562 section 5.7) from the event's
// time and Config.Rand, which it reads a block at a time: one read of the
// system's randomness per event cost as much as the store's Append.
type idSource struct {
	mu  sync.Mutex
	r   io.Reader
	buf [4096]byte
	off int
}

// newV7 returns a version 7 UUID: 48 bits of Unix milliseconds, 12 bits of
// the sub-millisecond fraction (method 3 of RFC 9562 section 6.2, so ids
// of one stream sort to the microsecond), and 62 random bits.
func (s *idSource) newV7(t time.Time) (uuid.UUID, error) {
	var id uuid.UUID
	s.mu.Lock()
	if s.off == 0 || s.off+8 > len(s.buf) {
		if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
			s.off = 0
			s.mu.Unlock()
			return id, err
		}
		s.off = 0
	}
	copy(id[8:], s.buf[s.off:s.off+8])
	clear(s.buf[s.off : s.off+8]) // used randomness is not kept
	s.off += 8
	s.mu.Unlock()
	// UUIDv7 has no time before 1970: use 0 rather than let a negative
	// remainder overwrite the version bits.
	us := max(t.UnixMicro(), 0)
	ms, frac := uint64(us/1000), uint64(us%1000)*4096/1000
	binary.BigEndian.PutUint64(id[0:8], ms<<16|0x7000|frac)
	id[8] = id[8]&0x3f | 0x80 // variant 10
	return id, nil
}

func (l *Log) commit(ctx context.Context, batch []*request) {
	evs := make([]Entry, len(batch))
	for i, b := range batch {
		evs[i] = b.ev
	}
	recs, err := l.write(ctx, evs)
	for i, b := range batch {
		if err != nil {
			b.err = err
		} else {
			b.rec = recs[i]
		}
	}
}

// oneEvent recycles the batch slices of the fast path.
var oneEvent = sync.Pool{New: func() any { return new([1]Entry) }}

// commitOne writes a batch of one event: the fast path.
func (l *Log) commitOne(ctx context.Context, ev *Entry, rec *Record) error {
	one := oneEvent.Get().(*[1]Entry)
	one[0] = *ev
	recs, err := l.write(ctx, one[:])
	one[0] = Entry{}
	oneEvent.Put(one)
	if err != nil {
		return err
	}
	*rec = recs[0]
	return nil
}

// write stores evs and signs any checkpoint they make due. The store call
// ignores the caller's cancellation (its answer must be the truth about
// durability, and a batch carries other callers' events) but keeps its
// values, and is bounded by writeTimeout (see writeDeadline).
func (l *Log) write(ctx context.Context, evs []Entry) ([]Record, error) {
	if ctx == context.Background() {
		ctx = l.deadline.get() // nothing to carry over; saves an allocation
	} else {
		ctx = valuesOf{Context: l.deadline.get(), values: ctx}
	}
	recs, err := l.store.Append(ctx, evs)
	if err == nil && len(recs) != len(evs) {
		err = errors.New("audit: store returned a wrong number of records")
	}
	if err != nil {
		return nil, err
	}
	if l.cfg.Signer != nil {
		l.autoCheckpoint(ctx, recs)
	}
	return recs, nil
}

// autoCheckpoint signs the head of each stream whose batch crossed a
// multiple of CheckpointEvery. Exactly one writer crosses each multiple,
// even across processes, so checkpoints are not duplicated.
func (l *Log) autoCheckpoint(ctx context.Context, recs []Record) {
	type span struct{ first, last *Record }
	spans := map[string]*span{}
	for i := range recs {
		r := &recs[i]
		if s, ok := spans[r.Tenant]; ok {
			s.last = r
		} else {
			spans[r.Tenant] = &span{r, r}
		}
	}
	every := uint64(l.cfg.CheckpointEvery)
	for _, s := range spans {
		if s.last.Seq/every == (s.first.Seq-1)/every {
			continue
		}
		head := Head{Stream: s.last.Tenant, Seq: s.last.Seq, Hash: s.last.Hash}
		if _, err := l.checkpoint(ctx, head, 0, [32]byte{}); err != nil {
			l.report(ctx, fmt.Errorf("audit: automatic checkpoint: %w", err))
		}
	}
}

// errNoSigner is returned by Checkpoint and Prune when the Log has no
// Signer.
var errNoSigner = errors.New("audit: no checkpoint signer configured")

func (l *Log) checkpoint(ctx context.Context, head Head, prunedSeq uint64, prunedHash [32]byte) (Checkpoint, error) {
	cp, err := l.sign(ctx, head, prunedSeq, prunedHash)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := l.store.AddCheckpoint(ctx, cp); err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

func (l *Log) sign(ctx context.Context, head Head, prunedSeq uint64, prunedHash [32]byte) (Checkpoint, error) {
	if l.cfg.Signer == nil {
		return Checkpoint{}, errNoSigner
	}
	cp := Checkpoint{Stream: head.Stream, Seq: head.Seq, Hash: head.Hash, Time: l.now(),
		PrunedSeq: prunedSeq, PrunedHash: prunedHash, KeyID: l.cfg.Signer.KeyID()}
	sig, err := l.cfg.Signer.Sign(ctx, cp.signedBytes())
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	cp.Signature = sig
	return cp, nil
}

func actionByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

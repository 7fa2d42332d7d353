package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestZeroConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	rec, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: "u1", Action: "record.updated",
		Changes: []audit.Change{{Field: "password", Old: "old-secret", New: "new-secret"}},
		Details: map[string]string{"card": "4111111111111111", "api_token": "x"}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Seq)
	require.NotEmpty(t, rec.ID)
	require.Equal(t, audit.Success, rec.Outcome)
	require.Equal(t, "user", rec.ActorType)
	require.WithinDuration(t, time.Now(), rec.Time, time.Minute)
	require.Equal(t, time.UTC, rec.Time.Location())
	require.Zero(t, rec.Time.Nanosecond()%1000, "microsecond precision")
	require.Equal(t, []audit.Change{{Field: "password", Old: "[REDACTED]", New: "[REDACTED]", Redacted: true}}, rec.Changes)
	require.Equal(t, map[string]string{"card": "**** **** **** 1111", "api_token": "[REDACTED]"}, rec.Details)
	rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: "acme"}))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Records)
	_, err = l.Checkpoint(ctx)
	require.ErrorIs(t, err, audit.ErrNoSigner, "no signer by default")
	_, err = l.Prune(ctx, "acme", time.Hour)
	require.ErrorIs(t, err, audit.ErrNoSigner)
}

func TestAppendValidates(t *testing.T) {
	t.Parallel()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	for _, a := range []string{"", "Auth.Login", "auth..login", "auth.login.", "auth login", "auth.lögin"} {
		_, err := l.Append(context.Background(), audit.Entry{Action: a})
		require.ErrorIs(t, err, audit.ErrInvalidEntry, a)
	}
	rec, err := l.Append(context.Background(), audit.Entry{Action: "auth.login", Actor: "u\xff",
		UserAgent: strings.Repeat("é", 400)})
	require.NoError(t, err)
	require.Equal(t, "u\uFFFD", rec.Actor)
	require.LessOrEqual(t, len(rec.UserAgent), 512)
	require.True(t, strings.HasSuffix(rec.UserAgent, "é"), "cut on a rune boundary")
}

// TestGroupCommitConcurrent appends from many goroutines to a few streams;
// every Append returns its own durable record and each stream stays one
// chain.
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingStore{Store: memstore.NewAuditStore()}
	l := mustLog(audit.New(st, audit.Config{Signer: testKey, CheckpointEvery: 50, MaxBatch: 64, Writers: 2, InFlight: 3}))
	const workers, each = 32, 40
	var wg sync.WaitGroup
	ids := make([][]string, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				rec, err := l.Append(ctx, audit.Entry{Tenant: fmt.Sprint("t", w%3), Actor: fmt.Sprint(w), Action: "record.updated",
					RequestID: fmt.Sprint(w, "-", i)})
				if err != nil {
					t.Error(err)
					return
				}
				if rec.RequestID != fmt.Sprint(w, "-", i) || rec.Seq == 0 {
					t.Errorf("Append returned someone else's record: %+v", rec)
				}
				ids[w] = append(ids[w], rec.ID)
			}
		})
	}
	wg.Wait()
	total := 0
	for s := range 3 {
		rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: fmt.Sprint("t", s)}))
		require.NoError(t, err)
		total += rep.Records
		require.Positive(t, rep.Checkpoints)
	}
	require.Equal(t, workers*each, total)
	require.Less(t, st.calls(), workers*each, "appends were batched")
}

// TestGroupCommitStress runs many short batches with several leaders per
// queue and a store that yields mid-write, to shake out lost wake-ups and
// leaked leader slots (either would hang the test).
func TestGroupCommitStress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(yieldingStore{memstore.NewAuditStore()}, audit.Config{MaxBatch: 2, Writers: 1, InFlight: 4}))
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 150 {
				if _, err := l.Append(ctx, audit.Entry{Tenant: fmt.Sprint(i % 2), Action: "x.y", Actor: fmt.Sprint(w)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []string{"0", "1"} {
		rep, err := verifyOne(l.Verify(ctx, audit.VerifyOptions{Stream: s}))
		require.NoError(t, err)
		require.Equal(t, 16*75, rep.Records)
	}
}

type yieldingStore struct{ audit.Store }

func (s yieldingStore) Append(ctx context.Context, evs []audit.Entry) ([]audit.Record, error) {
	runtime.Gosched()
	r, err := s.Store.Append(ctx, evs)
	runtime.Gosched()
	return r, err
}

type countingStore struct {
	audit.Store
	mu sync.Mutex
	n  int
}

// Append counts calls and yields, like a store waiting on I/O, so that
// appenders pile up behind a write in progress and get batched. (An
// uncontended in-memory write is quicker than a hand-off, and the Log
// then writes each event itself, unbatched.)
func (s *countingStore) Append(ctx context.Context, evs []audit.Entry) ([]audit.Record, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	for range 4 {
		runtime.Gosched()
	}
	return s.Store.Append(ctx, evs)
}

func (s *countingStore) calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

type failingStore struct{ audit.Store }

var errDown = errors.New("database down")

func (failingStore) Append(context.Context, []audit.Entry) ([]audit.Record, error) {
	return nil, errDown
}

func TestFailClosedAndOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := audit.Entry{Action: "auth.login"}
	_, err := mustLog(audit.New(failingStore{memstore.NewAuditStore()}, audit.Config{})).Append(ctx, ev)
	require.ErrorIs(t, err, audit.ErrWrite)
	require.ErrorIs(t, err, errDown)

	var reported []error
	l := mustLog(audit.New(failingStore{memstore.NewAuditStore()}, audit.Config{FailOpen: true,
		OnError: func(_ context.Context, err error) { reported = append(reported, err) }}))
	_, err = l.Append(ctx, ev)
	require.NoError(t, err)
	require.Len(t, reported, 1)
	require.ErrorIs(t, reported[0], audit.ErrWrite)
}

// tamperStore returns doctored records, as an attacker with database
// access would leave them.
type tamperStore struct {
	audit.Store
	edit func([]audit.Record) []audit.Record
}

func (s tamperStore) Records(ctx context.Context, stream string, from uint64, limit int) ([]audit.Record, error) {
	recs, err := s.Store.Records(ctx, stream, from, limit)
	return s.edit(recs), err
}

func TestVerifyDetectsStoreTampering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := memstore.NewAuditStore()
	l := mustLog(audit.New(mem, audit.Config{Signer: testKey, CheckpointEvery: 10}))
	for i := range 35 {
		_, err := l.Append(ctx, audit.Entry{Tenant: "t", Action: "record.updated", TargetID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	edits := map[string]struct {
		edit    func([]audit.Record) []audit.Record
		problem string
	}{
		"changed": {func(rs []audit.Record) []audit.Record {
			for i := range rs {
				if rs[i].Seq == 7 {
					rs[i].TargetID = "x"
				}
			}
			return rs
		}, audit.ProblemHash},
		"deleted": {func(rs []audit.Record) []audit.Record {
			out := rs[:0]
			for _, r := range rs {
				if r.Seq != 12 {
					out = append(out, r)
				}
			}
			return out
		}, audit.ProblemSequence},
		"truncated": {func(rs []audit.Record) []audit.Record {
			out := rs[:0]
			for _, r := range rs {
				if r.Seq <= 33 {
					out = append(out, r)
				}
			}
			return out
		}, audit.ProblemTruncated},
	}
	for name, e := range edits {
		tl := mustLog(audit.New(tamperStore{Store: mem, edit: e.edit}, audit.Config{Verifier: testKey}))
		_, err := tl.Verify(ctx, audit.VerifyOptions{Stream: "t"})
		var ce *audit.ChainError
		require.ErrorAs(t, err, &ce, name)
		require.Equal(t, e.problem, ce.Problem, name)
	}
	rep, err := verifyOne(mustLog(audit.New(mem, audit.Config{Verifier: testKey})).Verify(ctx, audit.VerifyOptions{Stream: "t", From: 100}))
	require.NoError(t, err, "a range beyond the head holds nothing to verify")
	require.Zero(t, rep.Records)
	rep, err = verifyOne(mustLog(audit.New(mem, audit.Config{Verifier: testKey})).Verify(ctx, audit.VerifyOptions{Stream: "t", From: 20, To: 10}))
	require.NoError(t, err)
	require.Zero(t, rep.Records)
	_, err = mustLog(audit.New(mem, audit.Config{})).Verify(ctx, audit.VerifyOptions{Stream: "t"})
	require.ErrorIs(t, err, audit.ErrNoVerifier)
	_, err = mustLog(audit.New(mem, audit.Config{Verifier: newEd25519(t)})).Verify(ctx, audit.VerifyOptions{Stream: "t"})
	require.ErrorIs(t, err, audit.ErrTampered, "checkpoints signed by another key")
}

func TestCheckpointAllVerifyAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Signer: testKey, CheckpointEvery: 4}))
	for i := range 6 {
		_, err := l.Append(ctx, audit.Entry{Tenant: fmt.Sprint("t", i%3), Action: "x.y"})
		require.NoError(t, err)
	}
	n, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = l.Checkpoint(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing moved since")
	reps, err := l.Verify(ctx, audit.VerifyOptions{AllStreams: true})
	require.NoError(t, err)
	require.Len(t, reps, 3)
	for _, r := range reps {
		require.Equal(t, 2, r.Records)
		require.Equal(t, 1, r.Checkpoints)
	}
	_, err = mustLog(audit.New(memstore.NewAuditStore(), audit.Config{})).Checkpoint(ctx)
	require.ErrorIs(t, err, audit.ErrNoSigner)
}

func TestQueryAndAccessReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{Now: clk.Now}))
	add := func(actor, action string, out audit.Outcome, ip string) {
		clk.Add(time.Second)
		_, err := l.Append(ctx, audit.Entry{Tenant: "acme", Actor: actor, Action: action, Outcome: out, IP: ip})
		require.NoError(t, err)
	}
	add("ann", audit.ActionLogin, audit.Success, "203.0.113.1")
	add("ann", audit.ActionLogin, audit.Failure, "198.51.100.9")
	add("ann", audit.ActionLogin, audit.Failure, "198.51.100.9")
	add("ann", audit.ActionLockout, audit.Success, "198.51.100.9")
	add("bob", audit.ActionLoginFailed, audit.Failure, "198.51.100.9")
	add("bob", audit.ActionLogin, audit.Success, "203.0.113.2")
	add("bob", "record.updated", audit.Success, "203.0.113.2")
	add("", audit.ActionMFAFailed, audit.Failure, "198.51.100.9")

	p, err := l.Query(ctx, audit.Filter{Tenant: "acme", ActionPrefix: "auth.login", Limit: 2})
	require.NoError(t, err)
	require.Len(t, p.Records, 2)
	require.Equal(t, "bob", p.Records[0].Actor)
	require.NotNil(t, p.Next)
	p2, err := l.Query(ctx, audit.Filter{Tenant: "acme", ActionPrefix: "auth.login", Limit: 2, After: *p.Next})
	require.NoError(t, err)
	require.Len(t, p2.Records, 2)
	require.True(t, p2.Records[0].Time.Before(p.Records[1].Time))
	p3, err := l.Query(ctx, audit.Filter{Tenant: "acme", ActionPrefix: "auth.login", Limit: 2, After: *p2.Next})
	require.NoError(t, err)
	require.Len(t, p3.Records, 1)
	require.Nil(t, p3.Next)

	rep, err := l.AccessReport(ctx, audit.Filter{Tenant: "acme"})
	require.NoError(t, err)
	require.Equal(t, 7, rep.Events)
	require.Equal(t, []audit.AccessCount{
		{Key: "ann", Logins: 1, Failures: 2, Lockouts: 1, First: t0.Add(1 * time.Second), Last: t0.Add(4 * time.Second)},
		{Key: "bob", Logins: 1, Failures: 1, First: t0.Add(5 * time.Second), Last: t0.Add(6 * time.Second)},
	}, rep.Accounts)
	require.Equal(t, "198.51.100.9", rep.IPs[0].Key)
	require.Equal(t, 4, rep.IPs[0].Failures)
	require.Equal(t, 1, rep.IPs[0].Lockouts)
}

func TestSlogBridge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memstore.NewAuditStore()
	l := mustLog(audit.New(st, audit.Config{}))
	logger := slog.New(l.SlogHandler(audit.SlogOptions{}))
	logger.Info("ordinary log line") // not selected: no audit.action
	logger.With(audit.SlogTenant, "acme").WithGroup("req").Warn("export started",
		audit.SlogAction, "data.export", audit.SlogActor, "u1", "rows", 10, "password", "hunter2")
	logger.Info("free text", audit.SlogAction, "Not A Dotted Name")
	p, err := l.Query(ctx, audit.Filter{AllTenants: true})
	require.NoError(t, err)
	require.Len(t, p.Records, 2)
	free, r := p.Records[0], p.Records[1]
	require.Equal(t, "acme", r.Tenant)
	require.Equal(t, "data.export", r.Action)
	require.Equal(t, "u1", r.Actor)
	require.Equal(t, map[string]string{"msg": "export started", "level": "WARN", "req.rows": "10", "req.password": "[REDACTED]"}, r.Details)
	require.Equal(t, audit.ActionLogMessage, free.Action)
	require.Equal(t, "Not A Dotted Name", free.Details["action"])
}

type slogUser struct {
	Name     string
	Password string `audit:"-"`
	Tokens   map[string]string
}

// A struct or map logged as one attribute must not carry a secret into
// Details past the redactor, which only sees the attribute's key.
func TestSlogBridgeNestedSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	logger := slog.New(l.SlogHandler(audit.SlogOptions{}))
	logger.Info("user changed", audit.SlogAction, "user.updated",
		"user", slogUser{Name: "alice", Password: "hunter2", Tokens: map[string]string{"refresh": "rt-plain"}},
		"settings", map[string]any{"api_key": "ak-plain"})
	p, err := l.Query(ctx, audit.Filter{})
	require.NoError(t, err)
	require.Len(t, p.Records, 1)
	all := fmt.Sprint(p.Records[0].Details)
	require.Contains(t, all, "alice")
	for _, secret := range []string{"hunter2", "ak-plain", "rt-plain"} {
		require.NotContains(t, all, secret)
	}
}

// slog.Logger discards the error its handler returns, so an audit write
// that fails through the slog bridge must reach Config.OnError, or it is
// lost without a trace.
func TestSlogBridgeReportsFailedWrite(t *testing.T) {
	t.Parallel()
	var reported []error
	l := mustLog(audit.New(failingStore{memstore.NewAuditStore()}, audit.Config{
		OnError: func(_ context.Context, err error) { reported = append(reported, err) }}))
	slog.New(l.SlogHandler(audit.SlogOptions{})).Info("export", audit.SlogAction, "data.export")
	require.Len(t, reported, 1)
	require.ErrorIs(t, reported[0], audit.ErrWrite)
}

// ctxStore records what the store call's context carried.
type ctxStore struct {
	audit.Store
	mu       sync.Mutex
	value    any
	deadline bool
	batches  []int
}

type ctxKey struct{}

func (s *ctxStore) Append(ctx context.Context, evs []audit.Entry) ([]audit.Record, error) {
	s.mu.Lock()
	s.value = ctx.Value(ctxKey{})
	_, s.deadline = ctx.Deadline()
	s.batches = append(s.batches, len(evs))
	s.mu.Unlock()
	return s.Store.Append(ctx, evs)
}

// TestAppendFastPath: an uncontended Append writes its own event as a
// batch of one, with no hand-off: two allocations (the event id and the
// store's record) on the in-memory store, against thirteen before. The
// store call keeps the caller's context values, is bounded by a deadline
// and is not cancelled with the caller.
func TestAppendFastPath(t *testing.T) {
	st := &ctxStore{Store: memstore.NewAuditStore()}
	l := mustLog(audit.New(st, audit.Config{}))
	ctx := context.WithValue(context.Background(), ctxKey{}, "request-7")
	_, err := l.Append(ctx, audit.Entry{Action: "record.updated", Actor: "u"})
	require.NoError(t, err)
	require.Equal(t, "request-7", st.value, "the caller's context values reach the store")
	require.True(t, st.deadline, "the store call is bounded")
	require.Equal(t, []int{1}, st.batches)

	mem := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	ev := audit.Entry{Tenant: "acme", Actor: "u1", Action: "auth.login", IP: "192.0.2.1", UserAgent: "test"}
	bg := context.Background()
	allocs := testing.AllocsPerRun(2000, func() {
		if _, err := mem.Append(bg, ev); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 2.0, "Log.Append allocations beyond the store's")
	rep, err := verifyOne(mem.Verify(bg, audit.VerifyOptions{Stream: "acme"}))
	require.NoError(t, err)
	require.Equal(t, 2001, rep.Records)
}

// TestEventIDFromAnyTime: ids are timestamped from the event's time, which
// the host may set to anything Append accepts; an id must stay a UUIDv7
// (version and variant bits intact) even for a time before 1970, which
// UUIDv7 cannot represent (its timestamp is then 0).
func TestEventIDFromAnyTime(t *testing.T) {
	t.Parallel()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	for _, at := range []time.Time{
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Unix(0, 0).UTC(),
		t0,
	} {
		rec, err := l.Append(context.Background(), audit.Entry{Action: "record.updated", Time: at})
		require.NoError(t, err)
		id, err := uuid.Parse(rec.ID)
		require.NoError(t, err)
		require.Equal(t, uuid.Version(7), id.Version(), "id %s for %s", rec.ID, at)
		require.Equal(t, uuid.RFC4122, id.Variant(), "id %s for %s", rec.ID, at)
		sec, nsec := id.Time().UnixTime()
		require.Equal(t, max(at.UnixMilli(), 0), sec*1000+nsec/1e6, "a time UUIDv7 cannot hold is 0, not wrapped")
	}
}

// blockingStore holds each Append until released and records whether the
// store call's context was cancelled meanwhile.
type blockingStore struct {
	audit.Store
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	ctxErrs []error
}

func (s *blockingStore) Append(ctx context.Context, evs []audit.Entry) ([]audit.Record, error) {
	s.entered <- struct{}{}
	<-s.release
	s.mu.Lock()
	s.ctxErrs = append(s.ctxErrs, ctx.Err())
	s.mu.Unlock()
	return s.Store.Append(ctx, evs)
}

// TestCancelledCallerDoesNotCancelWrites: a caller whose context is
// cancelled while its event (fast path) or a batch it leads is being
// written does not cancel the store call, which carries other callers'
// events too and must report the truth about durability: every Append
// returns only after its record is stored, without error.
func TestCancelledCallerDoesNotCancelWrites(t *testing.T) {
	t.Parallel()
	st := &blockingStore{Store: memstore.NewAuditStore(), entered: make(chan struct{}), release: make(chan struct{})}
	l := mustLog(audit.New(st, audit.Config{}))
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { // fast path: writes alone
		_, err := l.Append(ctx, audit.Entry{Tenant: "t", Action: "a.first"})
		errs <- err
	}()
	<-st.entered
	for range 2 { // queue behind it; carried by the next batch
		go func() {
			_, err := l.Append(context.Background(), audit.Entry{Tenant: "t", Action: "a.queued"})
			errs <- err
		}()
	}
	cancel()
	st.release <- struct{}{} // the first write completes despite the cancel
	<-st.entered             // the next batch
	st.release <- struct{}{}
	for range 3 {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-st.entered: // a third batch, if the queued ones were split
			st.release <- struct{}{}
			require.NoError(t, <-errs)
		}
	}
	st.mu.Lock()
	for _, err := range st.ctxErrs {
		require.NoError(t, err, "a store call was cancelled with its caller")
	}
	st.mu.Unlock()
	rep, err := verifyOne(l.Verify(context.Background(), audit.VerifyOptions{Stream: "t"}))
	require.NoError(t, err)
	require.Equal(t, 3, rep.Records)
}

// TestEventIDsUniqueUnderContention: ids come from one buffer of
// randomness per Log, shared by every appender; under contention, with
// every event at the same instant (so the timestamp bits are equal), no
// two ids repeat, within a Log or across Logs on one store.
func TestEventIDsUniqueUnderContention(t *testing.T) {
	t.Parallel()
	st := memstore.NewAuditStore()
	same := func() time.Time { return t0 }
	logs := []*audit.Log{mustLog(audit.New(st, audit.Config{Now: same})), mustLog(audit.New(st, audit.Config{Now: same, InFlight: 3}))}
	const workers, each = 8, 300
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				rec, err := logs[w%len(logs)].Append(context.Background(), audit.Entry{Tenant: fmt.Sprint("t", w%3), Action: "a.b"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[rec.ID] {
					t.Errorf("id %s repeated", rec.ID)
				}
				seen[rec.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, workers*each)
}

// TestNewZeroConfig: a zero Config means every documented default, and New
// refuses what it cannot run with instead of panicking (SPEC20 §3).
func TestNewZeroConfig(t *testing.T) {
	t.Parallel()
	l, err := audit.New(memstore.NewAuditStore(), audit.Config{})
	require.NoError(t, err)
	rec, err := l.Append(context.Background(), audit.Entry{Actor: "u1", Action: "auth.login"})
	require.NoError(t, err)
	require.Equal(t, audit.Success, rec.Outcome)
	require.Equal(t, uint64(1), rec.Seq)
	require.NotEmpty(t, rec.ID)

	_, err = audit.New(nil, audit.Config{})
	require.Error(t, err)
	for _, cfg := range []audit.Config{{CheckpointEvery: -1}, {MaxBatch: -1}, {Writers: -1}, {InFlight: -1}} {
		_, err = audit.New(memstore.NewAuditStore(), cfg)
		require.Error(t, err, "%+v", cfg)
	}
}

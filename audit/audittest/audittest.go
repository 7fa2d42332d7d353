// Package audittest checks that an [audit.Store] implementation keeps the
// contract the audit package relies on, in the manner of testing/fstest:
//
//	func TestConformance(t *testing.T) {
//		audittest.Run(t, func(t *testing.T) audit.Store { return newStore(t) })
//	}
//
// Run calls newStore once per subtest and expects a fresh, empty store each
// time. It uses only the standard library.
package audittest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
)

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) audit.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s audit.Store)
	}{
		{"EmptyStream", testEmpty},
		{"AppendChains", testAppendChains},
		{"RoundTrip", testRoundTrip},
		{"BatchAllOrNothing", testAllOrNothing},
		{"RecordsPaging", testRecordsPaging},
		{"QueryFilters", testQueryFilters},
		{"QueryKeyset", testQueryKeyset},
		{"Checkpoints", testCheckpoints},
		{"Prune", testPrune},
		{"ConcurrentAppends", testConcurrent},
		{"LogVerify", testLogVerify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Entry returns a valid event of stream at base+i seconds, with a unique id.
func Entry(stream string, i int) audit.Entry {
	return audit.Entry{
		ID:         fmt.Sprintf("00000000-0000-7000-8000-%012d", i),
		Time:       base.Add(time.Duration(i) * time.Second),
		Tenant:     stream,
		Actor:      fmt.Sprintf("user-%d", i%3),
		ActorType:  "user",
		Action:     []string{"auth.login", "auth.login.failed", "record.updated"}[i%3],
		TargetType: "invoice",
		TargetID:   fmt.Sprintf("inv-%d", i%5),
		Outcome:    []audit.Outcome{audit.Success, audit.Failure}[i%2],
		IP:         fmt.Sprintf("203.0.113.%d", i%4),
		UserAgent:  "Mozilla/5.0",
		RequestID:  fmt.Sprintf("req-%d", i),
	}
}

func ctx() context.Context { return context.Background() }

func mustAppend(t *testing.T, s audit.Store, evs ...audit.Entry) []audit.Record {
	t.Helper()
	recs, err := s.Append(ctx(), evs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(recs) != len(evs) {
		t.Fatalf("Append returned %d records for %d events", len(recs), len(evs))
	}
	return recs
}

func mustRecords(t *testing.T, s audit.Store, stream string, from uint64, limit int) []audit.Record {
	t.Helper()
	recs, err := s.Records(ctx(), stream, from, limit)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	return recs
}

func verifyAll(t *testing.T, s audit.Store, stream string, start audit.Head) {
	t.Helper()
	recs := mustRecords(t, s, stream, start.Seq+1, 1<<30)
	v, err := audit.NewChainVerifier(start, nil, nil)
	for i := 0; err == nil && i < len(recs); i++ {
		err = v.Next(&recs[i])
	}
	if err == nil {
		_, err = v.Finish()
	}
	if err != nil {
		t.Fatalf("stored chain does not verify: %v", err)
	}
}

func testEmpty(t *testing.T, s audit.Store) {
	h, err := s.Head(ctx(), "nobody")
	if err != nil || h != (audit.Head{Stream: "nobody"}) {
		t.Fatalf("Head of unknown stream = %+v, %v; want zero head", h, err)
	}
	if recs := mustRecords(t, s, "nobody", 0, 10); len(recs) != 0 {
		t.Fatalf("Records of unknown stream = %d records", len(recs))
	}
	cps, err := s.Checkpoints(ctx(), "nobody", 0, 10)
	if err != nil || len(cps) != 0 {
		t.Fatalf("Checkpoints of unknown stream = %v, %v", cps, err)
	}
	streams, err := s.Streams(ctx())
	if err != nil || len(streams) != 0 {
		t.Fatalf("Streams of empty store = %v, %v", streams, err)
	}
}

func testAppendChains(t *testing.T, s audit.Store) {
	var evs []audit.Entry
	for i := range 10 {
		evs = append(evs, Entry([]string{"a", "b"}[i%2], i))
	}
	recs := mustAppend(t, s, evs[:4]...)
	recs = append(recs, mustAppend(t, s, evs[4:]...)...)
	next := map[string]uint64{"a": 1, "b": 1}
	for i, r := range recs {
		if r.ID != evs[i].ID || r.Seq != next[r.Tenant] {
			t.Fatalf("record %d: id %s seq %d, want id %s seq %d", i, r.ID, r.Seq, evs[i].ID, next[r.Tenant])
		}
		next[r.Tenant]++
	}
	for _, st := range []string{"a", "b"} {
		verifyAll(t, s, st, audit.Head{Stream: st})
		h, err := s.Head(ctx(), st)
		if err != nil {
			t.Fatal(err)
		}
		all := mustRecords(t, s, st, 1, 100)
		last := all[len(all)-1]
		if h.Seq != 5 || h.Hash != last.Hash {
			t.Fatalf("Head(%s) = %d %x, want 5 %x", st, h.Seq, h.Hash, last.Hash)
		}
	}
	streams, err := s.Streams(ctx())
	if err != nil || !reflect.DeepEqual(streams, []string{"a", "b"}) {
		t.Fatalf("Streams = %v, %v", streams, err)
	}
}

func testRoundTrip(t *testing.T, s audit.Store) {
	ev := Entry("tenant-ü", 1)
	ev.Changes = []audit.Change{{Field: "email", Old: "a@example.com", New: "b@example.com"},
		{Field: "password", Old: "[REDACTED]", New: "[REDACTED]", Redacted: true},
		{Field: "note", Old: "", New: "line1\nline2 \u202e"}}
	ev.Details = map[string]string{"k": "v", "empty": "", "ключ": "значение"}
	ev.Time = time.UnixMicro(1767225600123456).UTC()
	want := mustAppend(t, s, ev)[0]
	got := mustRecords(t, s, ev.Tenant, 1, 1)
	if len(got) != 1 || !SameRecord(got[0], want) {
		t.Fatalf("stored record differs:\n got %+v\nwant %+v", got, want)
	}
	q, err := s.Query(ctx(), audit.Filter{Tenant: ev.Tenant, Limit: 10})
	if err != nil || len(q) != 1 || !SameRecord(q[0], want) {
		t.Fatalf("queried record differs: %v %+v", err, q)
	}
}

// SameRecord compares records field by field, treating nil and empty
// slices and maps alike and times by instant.
func SameRecord(a, b audit.Record) bool {
	norm := func(r audit.Record) audit.Record {
		r.Time = time.UnixMicro(r.Time.UnixMicro()).UTC()
		if len(r.Changes) == 0 {
			r.Changes = nil
		}
		if len(r.Details) == 0 {
			r.Details = nil
		}
		return r
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func testAllOrNothing(t *testing.T, s audit.Store) {
	mustAppend(t, s, Entry("a", 1))
	bad := Entry("a", 3)
	bad.Actor = "\xff\xfe" // not UTF-8: cannot be encoded
	if _, err := s.Append(ctx(), []audit.Entry{Entry("a", 2), Entry("b", 2), bad}); err == nil {
		t.Fatal("Append of a batch with an unencodable event succeeded")
	}
	if h, _ := s.Head(ctx(), "a"); h.Seq != 1 {
		t.Fatalf("failed batch moved the head to %d", h.Seq)
	}
	if recs := mustRecords(t, s, "b", 0, 10); len(recs) != 0 {
		t.Fatalf("failed batch left %d records in another stream", len(recs))
	}
	recs := mustAppend(t, s, Entry("a", 4))
	if recs[0].Seq != 2 {
		t.Fatalf("after a failed batch the next seq is %d, want 2", recs[0].Seq)
	}
	verifyAll(t, s, "a", audit.Head{Stream: "a"})
}

func testRecordsPaging(t *testing.T, s audit.Store) {
	var evs []audit.Entry
	for i := range 25 {
		evs = append(evs, Entry("p", i))
	}
	mustAppend(t, s, evs...)
	var got []audit.Record
	for from := uint64(1); ; {
		page := mustRecords(t, s, "p", from, 7)
		if len(page) > 7 {
			t.Fatalf("Records returned %d > limit 7", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		from = page[len(page)-1].Seq + 1
	}
	if len(got) != 25 {
		t.Fatalf("paged %d records, want 25", len(got))
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
	}
	if page := mustRecords(t, s, "p", 20, 100); len(page) != 6 || page[0].Seq != 20 {
		t.Fatalf("Records from 20: %d records", len(page))
	}
}

func testQueryFilters(t *testing.T, s audit.Store) {
	var evs []audit.Entry
	for i := range 30 {
		evs = append(evs, Entry([]string{"q", "r"}[i%2], i))
	}
	ev := Entry("q", 100)
	ev.Action = "auth.loginx"
	evs = append(evs, ev)
	mustAppend(t, s, evs...)
	all := make([]audit.Record, 0, len(evs))
	for _, st := range []string{"q", "r"} {
		all = append(all, mustRecords(t, s, st, 0, 100)...)
	}
	filters := []audit.Filter{
		{Tenant: "q"},
		{AllTenants: true},
		{Tenant: "q", Actor: "user-1"},
		{Tenant: "r", TargetType: "invoice", TargetID: "inv-3"},
		{Tenant: "q", ActionPrefix: "auth.login"},
		{Tenant: "q", ActionPrefix: "auth.login."},
		{Tenant: "q", ActionPrefix: "auth"},
		{AllTenants: true, Outcome: audit.Failure},
		{AllTenants: true, IP: "203.0.113.2"},
		{AllTenants: true, Since: base.Add(5 * time.Second), Until: base.Add(12 * time.Second)},
		{Tenant: "missing"},
		{Tenant: "q", Actor: "user-2", ActionPrefix: "record", Outcome: audit.Success},
	}
	for i, f := range filters {
		f.Limit = 1000
		got, err := s.Query(ctx(), f)
		if err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
		var want []audit.Record
		for j := range all {
			if f.Match(&all[j]) {
				want = append(want, all[j])
			}
		}
		sortNewest(want)
		if len(got) != len(want) {
			t.Fatalf("filter %d (%+v): %d records, want %d", i, f, len(got), len(want))
		}
		for j := range got {
			if got[j].ID != want[j].ID {
				t.Fatalf("filter %d: record %d is %s, want %s (newest first)", i, j, got[j].ID, want[j].ID)
			}
		}
	}
}

func sortNewest(rs []audit.Record) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && audit.NewerFirst(&rs[j], &rs[j-1]) < 0; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func testQueryKeyset(t *testing.T, s audit.Store) {
	var evs []audit.Entry
	for i := range 23 {
		ev := Entry("k", i)
		ev.Time = base.Add(time.Duration(i/3) * time.Second) // ties: three per second
		evs = append(evs, ev)
	}
	mustAppend(t, s, evs...)
	var seen []string
	f := audit.Filter{Tenant: "k", Limit: 5}
	for range 10 {
		page, err := s.Query(ctx(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			seen = append(seen, r.ID)
		}
		if len(page) < 5 {
			break
		}
		last := page[len(page)-1]
		f.After = audit.Cursor{Time: last.Time, ID: last.ID}
	}
	if len(seen) != 23 {
		t.Fatalf("keyset pages returned %d records, want 23", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("keyset order broken at %d: %s after %s", i, seen[i], seen[i-1])
		}
	}
}

func testCheckpoints(t *testing.T, s audit.Store) {
	for _, seq := range []uint64{5, 1, 9, 5} {
		cp := audit.Checkpoint{Stream: "c", Seq: seq, Hash: [32]byte{byte(seq)}, Time: base, KeyID: "k", Signature: []byte{1, 2, byte(seq)}}
		if err := s.AddCheckpoint(ctx(), cp); err != nil {
			t.Fatalf("AddCheckpoint: %v", err)
		}
	}
	cps, err := s.Checkpoints(ctx(), "c", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, cp := range cps {
		seqs = append(seqs, cp.Seq)
	}
	if !reflect.DeepEqual(seqs, []uint64{1, 5, 9}) {
		t.Fatalf("checkpoint seqs = %v, want [1 5 9] (duplicates ignored, ascending)", seqs)
	}
	want := audit.Checkpoint{Stream: "c", Seq: 5, Hash: [32]byte{5}, Time: base, KeyID: "k", Signature: []byte{1, 2, 5}}
	if got := cps[1]; got.Hash != want.Hash || !got.Time.Equal(want.Time) || got.KeyID != "k" || string(got.Signature) != string(want.Signature) {
		t.Fatalf("checkpoint round trip: got %+v", got)
	}
	if cps, _ := s.Checkpoints(ctx(), "c", 5, 1); len(cps) != 1 || cps[0].Seq != 5 {
		t.Fatalf("Checkpoints(from 5, limit 1) = %+v", cps)
	}
}

func testPrune(t *testing.T, s audit.Store) {
	var evs []audit.Entry
	for i := range 10 {
		evs = append(evs, Entry("x", i))
	}
	recs := mustAppend(t, s, evs...)
	head, _ := s.Head(ctx(), "x")
	cp := audit.Checkpoint{Stream: "x", Seq: head.Seq, Hash: head.Hash, Time: base, PrunedSeq: 4, PrunedHash: recs[3].Hash, KeyID: "k", Signature: []byte{1}}
	n, err := s.Prune(ctx(), cp)
	if err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4", n, err)
	}
	left := mustRecords(t, s, "x", 0, 100)
	if len(left) != 6 || left[0].Seq != 5 {
		t.Fatalf("after prune: %d records from seq %d", len(left), left[0].Seq)
	}
	if h, _ := s.Head(ctx(), "x"); h != head {
		t.Fatalf("prune moved the head: %+v", h)
	}
	cps, _ := s.Checkpoints(ctx(), "x", 0, 10)
	if len(cps) != 1 || cps[0].PrunedSeq != 4 || cps[0].PrunedHash != recs[3].Hash {
		t.Fatalf("prune checkpoint not stored: %+v", cps)
	}
	verifyAll(t, s, "x", audit.Head{Stream: "x", Seq: 4, Hash: recs[3].Hash})
	if r := mustAppend(t, s, Entry("x", 11)); r[0].Seq != 11 {
		t.Fatalf("append after prune got seq %d", r[0].Seq)
	}
}

func testConcurrent(t *testing.T, s audit.Store) {
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*1000 + i
				if _, err := s.Append(ctx(), []audit.Entry{Entry("hot", n), Entry(fmt.Sprint("cold", w%2), n)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	verifyAll(t, s, "hot", audit.Head{Stream: "hot"})
	if h, _ := s.Head(ctx(), "hot"); h.Seq != workers*each {
		t.Fatalf("hot stream head %d, want %d", h.Seq, workers*each)
	}
}

func testLogVerify(t *testing.T, s audit.Store) {
	key, err := audit.NewHMACKey("k1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := base
	l, err := audit.New(s, audit.Config{Signer: key, CheckpointEvery: 7, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		now = base.Add(time.Duration(i) * time.Minute)
		if _, err := l.Append(ctx(), audit.Entry{Tenant: "v", Actor: "u", Action: "record.updated"}); err != nil {
			t.Fatalf("Log.Append: %v", err)
		}
	}
	rep, err := verifyOne(l.Verify(ctx(), audit.VerifyOptions{Stream: "v"}))
	if err != nil || rep.Records != 30 || rep.Checkpoints != 4 {
		t.Fatalf("Verify = %+v, %v; want 30 records, 4 checkpoints", rep, err)
	}
	n, err := l.Prune(ctx(), "v", 20*time.Minute) // now = base+29m: records before base+9m go
	if err != nil || n != 9 {
		t.Fatalf("Prune = %d, %v; want 9", n, err)
	}
	rep, err = verifyOne(l.Verify(ctx(), audit.VerifyOptions{Stream: "v"}))
	if err != nil || rep.Records != 21 || !rep.Anchored || rep.From != 10 {
		t.Fatalf("Verify after prune = %+v, %v", rep, err)
	}
	rep, err = verifyOne(l.Verify(ctx(), audit.VerifyOptions{Stream: "v", From: 15, To: 20}))
	if err != nil || rep.Records != 6 || rep.From != 15 || rep.To != 20 {
		t.Fatalf("Verify of a range = %+v, %v", rep, err)
	}
}

// verifyOne returns the report of the one stream Log.Verify was asked
// for (the last, on an error), for tests written per stream.
func verifyOne(reps []audit.VerifyReport, err error) (audit.VerifyReport, error) {
	var rep audit.VerifyReport
	if len(reps) > 0 {
		rep = reps[len(reps)-1]
	}
	return rep, err
}

// Package retentiontest checks that an implementation of [retention.Store]
// keeps the contract written on its interfaces. A store's tests call
//
//	retentiontest.Run(t, func(t *testing.T) retention.Store { return newStore(t) })
//
// with a function returning a fresh, empty store for each subtest.
package retentiontest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
)

// Run runs the conformance tests against stores made by newStore. Besides
// the contract of each method, it drives a [retention.Manager] over the
// store and kills it at random points (before or after a store or host
// call) until the work is done, then checks each due subject was erased
// exactly once and nothing else was touched.
func Run(t *testing.T, newStore func(t *testing.T) retention.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, s retention.Store)
	}{
		{"PutGet", testPutGet},
		{"PutResetsMarksOnNewState", testPutResets},
		{"List", testList},
		{"ListInto", testListInto},
		{"MarkAction", testMarkAction},
		{"Hold", testHold},
		{"Erasure", testErasure},
		{"ErasureRefusals", testErasureRefusals},
		{"Fencing", testFencing},
		{"StoreFence", testStoreFence},
		{"ConcurrentBegin", testConcurrentBegin},
		{"KillAndRestart", testKillAndRestart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)

func put(t *testing.T, s retention.Store, sub retention.Subject) {
	t.Helper()
	if err := s.PutSubject(context.Background(), sub); err != nil {
		t.Fatalf("PutSubject(%s): %v", sub.ID, err)
	}
}

func get(t *testing.T, s retention.Store, id string) retention.Record {
	t.Helper()
	r, err := s.GetSubject(context.Background(), id)
	if err != nil {
		t.Fatalf("GetSubject(%s): %v", id, err)
	}
	return r
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func testPutGet(t *testing.T, s retention.Store) {
	ctx := context.Background()
	_, err := s.GetSubject(ctx, "nobody")
	wantErr(t, "GetSubject(missing)", err, retention.ErrNotFound)
	sub := retention.Subject{ID: "u1", State: "trial_expired", Since: t0, LastActive: t0.Add(-time.Hour), HasKey: true}
	put(t, s, sub)
	r := get(t, s, "u1")
	if r.ID != "u1" || r.State != sub.State || !r.Since.Equal(t0) || !r.LastActive.Equal(sub.LastActive) || !r.HasKey {
		t.Fatalf("GetSubject = %+v, want facts %+v", r, sub)
	}
	if r.Version < 1 || !r.Erased.IsZero() || r.Hold.Reason != "" || len(r.Warned) != 0 {
		t.Fatalf("fresh record = %+v", r)
	}
	sub.LastActive = t0.Add(time.Hour)
	sub.HasKey = false
	put(t, s, sub)
	r2 := get(t, s, "u1")
	if r2.Version <= r.Version || !r2.LastActive.Equal(sub.LastActive) || r2.HasKey {
		t.Fatalf("after update: %+v (version before %d)", r2, r.Version)
	}
}

func testPutResets(t *testing.T, s retention.Store) {
	ctx := context.Background()
	put(t, s, retention.Subject{ID: "u", State: "payment_failed", Since: t0})
	r := get(t, s, "u")
	for _, m := range []retention.Mark{
		{Action: retention.Warn, Key: "a@1", At: t0},
		{Action: retention.Suspend, At: t0.Add(time.Hour)},
		{Action: retention.Close, At: t0.Add(2 * time.Hour)},
	} {
		if err := s.MarkAction(ctx, "u", r.Version, m); err != nil {
			t.Fatalf("MarkAction(%v): %v", m.Action, err)
		}
	}
	if err := s.SetHold(ctx, "u", retention.Hold{Reason: "case 1", Since: t0}); err != nil {
		t.Fatal(err)
	}
	// Same state and since: marks stay.
	put(t, s, retention.Subject{ID: "u", State: "payment_failed", Since: t0, LastActive: t0.Add(time.Minute)})
	r = get(t, s, "u")
	if !r.Suspended.Equal(t0.Add(time.Hour)) || !r.Closed.Equal(t0.Add(2*time.Hour)) || !slices.Equal(r.Warned, []string{"a@1"}) {
		t.Fatalf("marks lost on an update within the state: %+v", r)
	}
	// New state: marks go, hold stays.
	put(t, s, retention.Subject{ID: "u", State: "active", Since: t0.Add(3 * time.Hour)})
	r = get(t, s, "u")
	if !r.Suspended.IsZero() || !r.Closed.IsZero() || len(r.Warned) != 0 {
		t.Fatalf("marks kept after a state change: %+v", r)
	}
	if r.Hold.Reason != "case 1" || !r.Hold.Since.Equal(t0) {
		t.Fatalf("hold lost after a state change: %+v", r.Hold)
	}
}

func testList(t *testing.T, s retention.Store) {
	ctx := context.Background()
	for i := range 25 {
		put(t, s, retention.Subject{ID: fmt.Sprintf("s%03d", i), State: "free", Since: t0})
	}
	got, err := s.ListSubjects(ctx, nil, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].ID != "s000" || got[9].ID != "s009" {
		t.Fatalf("first page: %d records, first %v", len(got), ids(got))
	}
	// Erase s010: it disappears from listings.
	e, err := s.BeginErasure(ctx, retention.Erasure{ID: "e-s010", Subject: "s010", Rule: "r", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishErasure(ctx, e.ID, 0, t0); err != nil {
		t.Fatal(err)
	}
	got, err = s.ListSubjects(ctx, nil, "s009", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].ID != "s011" || got[9].ID != "s020" {
		t.Fatalf("second page: %v", ids(got))
	}
	got, err = s.ListSubjects(ctx, nil, "s020", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[3].ID != "s024" {
		t.Fatalf("last page: %v", ids(got))
	}
}

func ids(rs []retention.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// testListInto: ListSubjects into a reused buffer pages exactly as it
// does into a nil one, whatever the buffer held before (longer or shorter
// pages, warnings or none).
func testListInto(t *testing.T, s retention.Store) {
	ctx := context.Background()
	for i := range 23 {
		put(t, s, retention.Subject{ID: fmt.Sprintf("s%03d", i), State: "free", Since: t0.Add(time.Duration(i) * time.Second), HasKey: i%2 == 0})
		r := get(t, s, fmt.Sprintf("s%03d", i))
		for k := range i % 3 {
			if err := s.MarkAction(ctx, r.ID, r.Version, retention.Mark{Action: retention.Warn, Key: fmt.Sprintf("w%d", k), At: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.SetHold(ctx, "s004", retention.Hold{Reason: "case", Since: t0}); err != nil {
		t.Fatal(err)
	}
	var buf []retention.Record
	for _, limit := range []int{10, 3, 7, 50} {
		after := ""
		for range 30 {
			want, err := s.ListSubjects(ctx, nil, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.ListSubjects(ctx, buf, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("ListSubjects(buf, %q, %d) = %v, want %v", after, limit, ids(got), ids(want))
			}
			for i := range want {
				w, g := want[i], got[i]
				if g.ID != w.ID || g.State != w.State || !g.Since.Equal(w.Since) || g.HasKey != w.HasKey || g.Version != w.Version ||
					g.Hold.Reason != w.Hold.Reason || !slices.Equal(g.Warned, w.Warned) {
					t.Fatalf("ListSubjects(buf) record %d = %+v, want %+v", i, g, w)
				}
			}
			buf = got
			if len(got) < limit {
				break
			}
			after = got[len(got)-1].ID
		}
	}
}

func testMarkAction(t *testing.T, s retention.Store) {
	ctx := context.Background()
	wantErr(t, "MarkAction(missing)", s.MarkAction(ctx, "x", 1, retention.Mark{Action: retention.Suspend, At: t0}), retention.ErrNotFound)
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	v := get(t, s, "u").Version
	for range 2 {
		if err := s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Warn, Key: "k@1", At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Warn, Key: "k@2", At: t0}); err != nil {
		t.Fatal(err)
	}
	r := get(t, s, "u")
	if !slices.Equal(r.Warned, []string{"k@1", "k@2"}) {
		t.Fatalf("Warned = %v, want [k@1 k@2] (each key once, in order)", r.Warned)
	}
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0, LastActive: t0})
	wantErr(t, "MarkAction(stale version)", s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Suspend, At: t0}), retention.ErrChanged)
	if !get(t, s, "u").Suspended.IsZero() {
		t.Fatal("a stale MarkAction changed the record")
	}
}

func testHold(t *testing.T, s retention.Store) {
	ctx := context.Background()
	wantErr(t, "SetHold(missing)", s.SetHold(ctx, "x", retention.Hold{Reason: "r", Since: t0}), retention.ErrNotFound)
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	if err := s.SetHold(ctx, "u", retention.Hold{Reason: "litigation", Since: t0}); err != nil {
		t.Fatal(err)
	}
	_, err := s.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "r", Started: t0})
	wantErr(t, "BeginErasure(on hold)", err, retention.ErrOnHold)
	if err := s.SetHold(ctx, "u", retention.Hold{}); err != nil {
		t.Fatal(err)
	}
	if h := get(t, s, "u").Hold; h.Reason != "" || !h.Since.IsZero() {
		t.Fatalf("hold not lifted: %+v", h)
	}
	if _, err := s.BeginErasure(ctx, retention.Erasure{ID: "e2", Subject: "u", Rule: "r", Started: t0}); err != nil {
		t.Fatal(err)
	}
}

func testErasure(t *testing.T, s retention.Store) {
	ctx := context.Background()
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0, HasKey: true})
	v := get(t, s, "u").Version
	e, err := s.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "free-inactive", Fence: 3, SubjectVersion: v, Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "e1" || e.Subject != "u" || e.Rule != "free-inactive" || e.Fence != 3 || !e.Started.Equal(t0) || len(e.Done) != 0 {
		t.Fatalf("BeginErasure = %+v", e)
	}
	for _, step := range []string{"key", "sessions", "sessions"} {
		if err := s.StepErasure(ctx, "e1", 3, step); err != nil {
			t.Fatal(err)
		}
	}
	// A second Begin returns the unfinished erasure, with its progress.
	e2, err := s.BeginErasure(ctx, retention.Erasure{ID: "other", Subject: "u", Rule: "request", Fence: 4, Started: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if e2.ID != "e1" || e2.Rule != "free-inactive" || e2.Fence != 4 || !slices.Equal(e2.Done, []string{"key", "sessions"}) {
		t.Fatalf("resumed erasure = %+v", e2)
	}
	pend, err := s.PendingErasures(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 || pend[0].ID != "e1" || pend[0].Subject != "u" || !slices.Equal(pend[0].Done, []string{"key", "sessions"}) {
		t.Fatalf("PendingErasures = %+v", pend)
	}
	at := t0.Add(2 * time.Hour)
	if err := s.FinishErasure(ctx, "e1", 4, at); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "FinishErasure twice", s.FinishErasure(ctx, "e1", 4, at), retention.ErrNotFound)
	wantErr(t, "StepErasure after finish", s.StepErasure(ctx, "e1", 4, "x"), retention.ErrNotFound)
	r := get(t, s, "u")
	if !r.Erased.Equal(at) || r.Receipt != "e1" || r.State != "" || r.HasKey || !r.Since.IsZero() {
		t.Fatalf("tombstone = %+v, want only id, Erased and Receipt", r)
	}
	pend, err = s.PendingErasures(ctx, 10)
	if err != nil || len(pend) != 0 {
		t.Fatalf("PendingErasures after finish = %v, %v", pend, err)
	}
	wantErr(t, "PutSubject(erased)", s.PutSubject(ctx, retention.Subject{ID: "u", State: "free", Since: t0}), retention.ErrErased)
	wantErr(t, "MarkAction(erased)", s.MarkAction(ctx, "u", r.Version, retention.Mark{Action: retention.Suspend, At: t0}), retention.ErrErased)
	wantErr(t, "SetHold(erased)", s.SetHold(ctx, "u", retention.Hold{Reason: "x", Since: t0}), retention.ErrErased)
	_, err = s.BeginErasure(ctx, retention.Erasure{ID: "e3", Subject: "u", Rule: "r", Started: t0})
	wantErr(t, "BeginErasure(erased)", err, retention.ErrErased)
}

func testErasureRefusals(t *testing.T, s retention.Store) {
	ctx := context.Background()
	_, err := s.BeginErasure(ctx, retention.Erasure{ID: "e0", Subject: "nobody", Rule: "r", Started: t0})
	wantErr(t, "BeginErasure(missing)", err, retention.ErrNotFound)
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	v := get(t, s, "u").Version
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0, LastActive: t0})
	_, err = s.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "r", SubjectVersion: v, Started: t0})
	wantErr(t, "BeginErasure(stale version)", err, retention.ErrChanged)
	wantErr(t, "StepErasure(missing)", s.StepErasure(ctx, "nope", 0, "x"), retention.ErrNotFound)
	wantErr(t, "FinishErasure(missing)", s.FinishErasure(ctx, "nope", 0, t0), retention.ErrNotFound)
	pend, err := s.PendingErasures(ctx, 10)
	if err != nil || len(pend) != 0 {
		t.Fatalf("PendingErasures = %v, %v; want none", pend, err)
	}
}

func testFencing(t *testing.T, s retention.Store) {
	ctx := context.Background()
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	if _, err := s.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "r", Fence: 5, Started: t0}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "StepErasure(old fence)", s.StepErasure(ctx, "e1", 4, "x"), retention.ErrFenced)
	_, err := s.BeginErasure(ctx, retention.Erasure{ID: "e2", Subject: "u", Rule: "r", Fence: 4, Started: t0})
	wantErr(t, "BeginErasure(old fence)", err, retention.ErrFenced)
	if _, err := s.BeginErasure(ctx, retention.Erasure{ID: "e3", Subject: "u", Rule: "r", Fence: 7, Started: t0}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "StepErasure(superseded fence)", s.StepErasure(ctx, "e1", 5, "x"), retention.ErrFenced)
	wantErr(t, "FinishErasure(superseded fence)", s.FinishErasure(ctx, "e1", 5, t0), retention.ErrFenced)
	if err := s.StepErasure(ctx, "e1", 7, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishErasure(ctx, "e1", 8, t0); err != nil {
		t.Fatal(err)
	}
}

// testStoreFence: once a lock holder's token is recorded, every write of an
// older holder is refused, whatever the erasure's own fence says; callers
// without a lock (fence 0) are not affected.
func testStoreFence(t *testing.T, s retention.Store) {
	ctx := context.Background()
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	put(t, s, retention.Subject{ID: "v", State: "free", Since: t0})
	if err := s.AdvanceFence(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceFence(ctx, 10); err != nil {
		t.Fatalf("AdvanceFence(same token) = %v", err)
	}
	wantErr(t, "AdvanceFence(older)", s.AdvanceFence(ctx, 9), retention.ErrFenced)
	v := get(t, s, "u").Version
	wantErr(t, "MarkAction(stale warn)", s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Warn, Key: "k", At: t0, Fence: 9}), retention.ErrFenced)
	wantErr(t, "MarkAction(stale suspend)", s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Suspend, At: t0, Fence: 9}), retention.ErrFenced)
	if r := get(t, s, "u"); len(r.Warned) != 0 || !r.Suspended.IsZero() {
		t.Fatalf("a stale holder's mark was recorded: %+v", r)
	}
	_, err := s.BeginErasure(ctx, retention.Erasure{ID: "e0", Subject: "u", Rule: "r", Fence: 9, Started: t0})
	wantErr(t, "BeginErasure(stale)", err, retention.ErrFenced)
	if err := s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Warn, Key: "k", At: t0, Fence: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAction(ctx, "u", v, retention.Mark{Action: retention.Suspend, At: t0}); err != nil {
		t.Fatalf("MarkAction(no lock) = %v", err)
	}
	if _, err := s.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "r", Fence: 10, Started: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginErasure(ctx, retention.Erasure{ID: "e2", Subject: "v", Rule: "r", Started: t0}); err != nil {
		t.Fatalf("BeginErasure(no lock) = %v", err)
	}
	// A new holder: the old one's next step and finish are refused, even
	// on an erasure the new holder never touched.
	if err := s.AdvanceFence(ctx, 11); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "StepErasure(stale)", s.StepErasure(ctx, "e1", 10, "x"), retention.ErrFenced)
	wantErr(t, "FinishErasure(stale)", s.FinishErasure(ctx, "e1", 10, t0), retention.ErrFenced)
	wantErr(t, "StepErasure(stale, other erasure)", s.StepErasure(ctx, "e2", 10, "x"), retention.ErrFenced)
	if r := get(t, s, "u"); !r.Erased.IsZero() {
		t.Fatal("a stale holder finished an erasure")
	}
	if err := s.StepErasure(ctx, "e2", 0, "x"); err != nil {
		t.Fatalf("StepErasure(no lock) = %v", err)
	}
	if err := s.StepErasure(ctx, "e1", 11, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishErasure(ctx, "e1", 11, t0); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentBegin(t *testing.T, s retention.Store) {
	ctx := context.Background()
	put(t, s, retention.Subject{ID: "u", State: "free", Since: t0})
	var wg sync.WaitGroup
	got := make([]string, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := s.BeginErasure(ctx, retention.Erasure{ID: fmt.Sprintf("e%d", i), Subject: "u", Rule: "r", Started: t0})
			got[i], errs[i] = e.ID, err
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("BeginErasure %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("two erasures in progress for one subject: %v", got)
		}
	}
}

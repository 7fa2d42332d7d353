// Package keyringtest checks that a [keyring.Store] implementation keeps the
// contract written on the interfaces, the way testing/fstest checks an
// fs.FS. Store authors call [Run] from a test:
//
//	func TestConformance(t *testing.T) {
//		keyringtest.Run(t, func(t *testing.T) keyring.Store { return newStore(t) })
//	}
//
// newStore must return a fresh, empty store for each call.
package keyringtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/keyring"
)

// Run runs the conformance tests against stores made by newStore, each
// subtest with a fresh store.
func Run(t *testing.T, newStore func(t *testing.T) keyring.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s keyring.Store)
	}{
		{"Empty", testEmpty},
		{"AddAndGet", testAddAndGet},
		{"AddDuplicate", testAddDuplicate},
		{"Promote", testPromote},
		{"StateRules", testStateRules},
		{"Destroy", testDestroy},
		{"ReplaceWrapped", testReplaceWrapped},
		{"AddUses", testAddUses},
		{"SubjectKeys", testSubjectKeys},
		{"SubjectKeyPaging", testSubjectKeyPaging},
		{"ConcurrentPromote", testConcurrentPromote},
		{"ConcurrentAddSubjectKey", testConcurrentAddSubjectKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC) // microsecond precision

func key(id uint32, st keyring.State) keyring.Key {
	return keyring.Key{ID: id, State: st, Wrapped: []byte(fmt.Sprintf("wrapped-%d", id)), CreatedAt: t0, UpdatedAt: t0}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func states(t *testing.T, s keyring.Store) map[uint32]keyring.State {
	t.Helper()
	keys, err := s.Keys(context.Background())
	must(t, err)
	m := map[uint32]keyring.State{}
	for _, k := range keys {
		m[k.ID] = k.State
	}
	return m
}

func testEmpty(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	keys, err := s.Keys(ctx)
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("Keys on an empty store = %d keys", len(keys))
	}
	_, err = s.Key(ctx, 7)
	wantErr(t, err, keyring.ErrNotFound)
	_, err = s.SubjectKey(ctx, "alice")
	wantErr(t, err, keyring.ErrNotFound)
}

func testAddAndGet(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	k := key(4000000000, keyring.Primary) // above 2^31: must survive a signed column
	k.Uses = 0
	must(t, s.AddKey(ctx, k))
	must(t, s.AddKey(ctx, key(0, keyring.Enabled)))
	must(t, s.AddKey(ctx, key(5, keyring.Enabled)))
	got, err := s.Key(ctx, k.ID)
	must(t, err)
	if got.ID != k.ID || got.Subject != "" || got.State != keyring.Primary || !bytes.Equal(got.Wrapped, k.Wrapped) ||
		!got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) || got.Uses != 0 {
		t.Fatalf("Key = %+v, want %+v", got, k)
	}
	keys, err := s.Keys(ctx)
	must(t, err)
	if len(keys) != 3 || keys[0].ID != 0 || keys[1].ID != 5 || keys[2].ID != k.ID {
		t.Fatalf("Keys = %+v, want ids 0, 5, %d in order", keys, k.ID)
	}
	// Returned records are copies.
	got.Wrapped[0] ^= 1
	again, err := s.Key(ctx, k.ID)
	must(t, err)
	if !bytes.Equal(again.Wrapped, k.Wrapped) {
		t.Fatal("changing a returned record changed the store")
	}
}

func testAddDuplicate(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	wantErr(t, s.AddKey(ctx, key(1, keyring.Enabled)), keyring.ErrDuplicate)
	wantErr(t, s.AddKey(ctx, key(2, keyring.Primary)), keyring.ErrDuplicate)
	must(t, s.AddKey(ctx, key(2, keyring.Enabled)))
	if got := states(t, s); len(got) != 2 || got[1] != keyring.Primary || got[2] != keyring.Enabled {
		t.Fatalf("states = %v", got)
	}
}

func testPromote(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	must(t, s.AddKey(ctx, key(2, keyring.Enabled)))
	at := t0.Add(time.Hour)
	must(t, s.SetState(ctx, 2, keyring.Primary, at))
	if got := states(t, s); got[1] != keyring.Enabled || got[2] != keyring.Primary {
		t.Fatalf("after promote states = %v", got)
	}
	k, err := s.Key(ctx, 2)
	must(t, err)
	if !k.UpdatedAt.Equal(at) || !k.CreatedAt.Equal(t0) {
		t.Fatalf("promoted key times = %v, %v", k.CreatedAt, k.UpdatedAt)
	}
	// Promoting the primary again is a no-op.
	must(t, s.SetState(ctx, 2, keyring.Primary, at))
	if got := states(t, s); got[1] != keyring.Enabled || got[2] != keyring.Primary {
		t.Fatalf("after second promote states = %v", got)
	}
	wantErr(t, s.SetState(ctx, 9, keyring.Primary, at), keyring.ErrNotFound)
}

func testStateRules(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	must(t, s.AddKey(ctx, key(2, keyring.Enabled)))
	wantErr(t, s.SetState(ctx, 1, keyring.Disabled, t0), keyring.ErrPrimaryKey)
	wantErr(t, s.SetState(ctx, 1, keyring.Enabled, t0), keyring.ErrPrimaryKey)
	must(t, s.SetState(ctx, 2, keyring.Disabled, t0))
	wantErr(t, s.SetState(ctx, 2, keyring.Primary, t0), keyring.ErrKeyDisabled)
	must(t, s.SetState(ctx, 2, keyring.Enabled, t0))
	wantErr(t, s.SetState(ctx, 3, keyring.Disabled, t0), keyring.ErrNotFound)
	if got := states(t, s); got[1] != keyring.Primary || got[2] != keyring.Enabled {
		t.Fatalf("states = %v", got)
	}
}

func testDestroy(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	must(t, s.AddKey(ctx, key(2, keyring.Enabled)))
	wantErr(t, s.DestroyKey(ctx, 1), keyring.ErrPrimaryKey)
	wantErr(t, s.DestroyKey(ctx, 2), keyring.ErrKeyEnabled)
	wantErr(t, s.DestroyKey(ctx, 3), keyring.ErrNotFound)
	must(t, s.SetState(ctx, 2, keyring.Disabled, t0))
	must(t, s.DestroyKey(ctx, 2))
	_, err := s.Key(ctx, 2)
	wantErr(t, err, keyring.ErrNotFound)
	wantErr(t, s.DestroyKey(ctx, 2), keyring.ErrNotFound)
}

func testReplaceWrapped(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	k := key(1, keyring.Primary)
	must(t, s.AddKey(ctx, k))
	must(t, s.ReplaceWrapped(ctx, "", 1, k.Wrapped, []byte("new")))
	wantErr(t, s.ReplaceWrapped(ctx, "", 1, k.Wrapped, []byte("newer")), keyring.ErrNotFound)
	wantErr(t, s.ReplaceWrapped(ctx, "", 2, k.Wrapped, []byte("x")), keyring.ErrNotFound)
	got, err := s.Key(ctx, 1)
	must(t, err)
	if string(got.Wrapped) != "new" {
		t.Fatalf("wrapped = %q, want new", got.Wrapped)
	}
	sk := key(7, keyring.Primary)
	sk.Subject = "alice"
	_, err = s.AddSubjectKey(ctx, sk)
	must(t, err)
	wantErr(t, s.ReplaceWrapped(ctx, "alice", 8, sk.Wrapped, []byte("x")), keyring.ErrNotFound)
	must(t, s.ReplaceWrapped(ctx, "alice", 7, sk.Wrapped, []byte("subject-new")))
	got, err = s.SubjectKey(ctx, "alice")
	must(t, err)
	if string(got.Wrapped) != "subject-new" {
		t.Fatalf("subject wrapped = %q", got.Wrapped)
	}
}

func testAddUses(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	must(t, s.AddUses(ctx, 1, 5))
	must(t, s.AddUses(ctx, 1, 1<<33))
	must(t, s.AddUses(ctx, 2, 1)) // missing: not an error
	got, err := s.Key(ctx, 1)
	must(t, err)
	if got.Uses != 5+1<<33 {
		t.Fatalf("uses = %d", got.Uses)
	}
}

func testSubjectKeys(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	a := key(7, keyring.Primary)
	a.Subject = "alice"
	got, err := s.AddSubjectKey(ctx, a)
	must(t, err)
	if got.ID != 7 || got.Subject != "alice" || !bytes.Equal(got.Wrapped, a.Wrapped) {
		t.Fatalf("AddSubjectKey = %+v", got)
	}
	b := key(8, keyring.Primary)
	b.Subject = "alice"
	got, err = s.AddSubjectKey(ctx, b)
	must(t, err)
	if got.ID != 7 {
		t.Fatalf("second AddSubjectKey returned id %d, want the first key 7", got.ID)
	}
	// Subject keys do not collide with the keyring's own keys.
	must(t, s.AddKey(ctx, key(7, keyring.Primary)))
	got, err = s.SubjectKey(ctx, "alice")
	must(t, err)
	if got.ID != 7 || got.Subject != "alice" || got.State != keyring.Primary || !got.CreatedAt.Equal(t0) {
		t.Fatalf("SubjectKey = %+v", got)
	}
	keys, err := s.Keys(ctx)
	must(t, err)
	if len(keys) != 1 {
		t.Fatalf("Keys lists subject keys: %+v", keys)
	}
	must(t, s.DeleteSubjectKey(ctx, "alice"))
	_, err = s.SubjectKey(ctx, "alice")
	wantErr(t, err, keyring.ErrNotFound)
	wantErr(t, s.DeleteSubjectKey(ctx, "alice"), keyring.ErrNotFound)
	if _, err := s.Key(ctx, 7); err != nil {
		t.Fatalf("deleting a subject key touched the keyring key: %v", err)
	}
	// A new key may be created after destruction.
	got, err = s.AddSubjectKey(ctx, b)
	must(t, err)
	if got.ID != 8 {
		t.Fatalf("AddSubjectKey after delete = %d, want 8", got.ID)
	}
}

func testSubjectKeyPaging(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	for i, subj := range []string{"d", "a", "c", "e", "b"} {
		k := key(uint32(i+1), keyring.Primary)
		k.Subject = subj
		_, err := s.AddSubjectKey(ctx, k)
		must(t, err)
	}
	var seen []string
	for after := ""; ; {
		page, err := s.SubjectKeys(ctx, after, 2)
		must(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		for _, k := range page {
			seen = append(seen, k.Subject)
		}
		after = page[len(page)-1].Subject
	}
	if fmt.Sprint(seen) != "[a b c d e]" {
		t.Fatalf("paged subjects = %v", seen)
	}
}

// testConcurrentPromote adds and promotes keys from many goroutines at once:
// afterwards every key exists and exactly one is primary.
func testConcurrentPromote(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	must(t, s.AddKey(ctx, key(1, keyring.Primary)))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func(id uint32) {
			defer wg.Done()
			if err := s.AddKey(ctx, key(id, keyring.Enabled)); err != nil {
				errs <- err
				return
			}
			for range 3 {
				if err := s.SetState(ctx, id, keyring.Primary, t0); err != nil {
					errs <- err
					return
				}
			}
		}(uint32(100 + i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent promote: %v", err)
	}
	got := states(t, s)
	primaries := 0
	for _, st := range got {
		if st == keyring.Primary {
			primaries++
		}
	}
	if len(got) != n+1 || primaries != 1 {
		t.Fatalf("after concurrent promotes: %d keys, %d primaries: %v", len(got), primaries, got)
	}
}

func testConcurrentAddSubjectKey(t *testing.T, s keyring.Store) {
	ctx := context.Background()
	const n = 8
	ids := make(chan uint32, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func(id uint32) {
			defer wg.Done()
			k := key(id, keyring.Primary)
			k.Subject = "bob"
			got, err := s.AddSubjectKey(ctx, k)
			if err != nil {
				t.Errorf("AddSubjectKey: %v", err)
				return
			}
			ids <- got.ID
		}(uint32(i + 1))
	}
	wg.Wait()
	close(ids)
	var first uint32
	for id := range ids {
		if first == 0 {
			first = id
		}
		if id != first {
			t.Fatalf("racing AddSubjectKey returned different keys %d and %d", first, id)
		}
	}
}

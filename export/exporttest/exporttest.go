// Package exporttest is a conformance suite for implementations of
// [export.Sink], such as an object-storage sink written by the host. It
// uses only the standard testing package.
//
//	func TestMySink(t *testing.T) {
//		exporttest.RunSink(t, func(t *testing.T) export.Sink { return newBucketSink(t) })
//	}
package exporttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/bulwarkhq/bulwark/export"
)

// RunSink checks the [export.Sink] contract against fresh, empty sinks
// made by newSink, one per subtest: Put stores an object under the name
// (Sink has no read method, so the stored bytes are not compared), a
// second Put of a name leaves one object, a failing reader or a cancelled
// context leaves no object, List filters by prefix, Delete removes and
// tolerates a missing name.
func RunSink(t *testing.T, newSink func(t *testing.T) export.Sink) {
	t.Helper()
	ctx := context.Background()

	t.Run("PutListDelete", func(t *testing.T) {
		s := newSink(t)
		data := bytes.Repeat([]byte("backup-data-"), 10000)
		mustPut(t, s, "acme-20260101T000000.000Z.tar.age", data)
		mustPut(t, s, "acme-20260102T000000.000Z.tar.age", []byte("two"))
		mustPut(t, s, "other-20260101T000000.000Z.tar.age", []byte("three"))
		got := mustList(t, s, "acme-")
		want := []string{"acme-20260101T000000.000Z.tar.age", "acme-20260102T000000.000Z.tar.age"}
		if !slices.Equal(got, want) {
			t.Fatalf("List(acme-) = %q, want %q", got, want)
		}
		if err := s.Delete(ctx, want[0]); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := s.Delete(ctx, want[0]); err != nil {
			t.Fatalf("Delete of a missing name: %v, want nil", err)
		}
		if got := mustList(t, s, "acme-"); !slices.Equal(got, want[1:]) {
			t.Fatalf("after Delete, List = %q, want %q", got, want[1:])
		}
	})

	t.Run("PutReplaces", func(t *testing.T) {
		s := newSink(t)
		mustPut(t, s, "x-1", []byte("old"))
		mustPut(t, s, "x-1", []byte("new"))
		if got := mustList(t, s, "x-"); !slices.Equal(got, []string{"x-1"}) {
			t.Fatalf("List = %q, want one object", got)
		}
	})

	t.Run("FailedPutLeavesNothing", func(t *testing.T) {
		s := newSink(t)
		r := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("p"), 100000)), failingReader{})
		if err := s.Put(ctx, "fail-1", r); err == nil {
			t.Fatal("Put with a failing reader returned nil")
		}
		if got := mustList(t, s, ""); len(got) != 0 {
			t.Fatalf("after a failed Put, List = %q, want nothing", got)
		}
	})

	t.Run("CancelledPutLeavesNothing", func(t *testing.T) {
		s := newSink(t)
		cctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(bytes.Repeat([]byte("c"), 1000))
			cancel()
			// Then stall until the sink gives up.
			_, _ = pw.Write(bytes.Repeat([]byte("c"), 1<<20))
		}()
		err := s.Put(cctx, "cancel-1", pr)
		_ = pr.Close()
		if err == nil {
			t.Fatal("Put with a cancelled context returned nil")
		}
		if got := mustList(t, s, ""); len(got) != 0 {
			t.Fatalf("after a cancelled Put, List = %q, want nothing", got)
		}
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("exporttest: read failed") }

func mustPut(t *testing.T, s export.Sink, name string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), name, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func mustList(t *testing.T, s export.Sink, prefix string) []string {
	t.Helper()
	got, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	slices.Sort(got)
	return got
}

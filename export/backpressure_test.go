package export_test

import (
	"context"
	"io"
	"iter"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// counting yields n short rows and counts how many were pulled.
type counting struct {
	n      int
	pulled atomic.Int64
}

func (c *counting) Columns() []string { return []string{"v"} }
func (c *counting) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for range c.n {
			c.pulled.Add(1)
			if !yield([]string{"0123456789"}, nil) {
				return
			}
		}
	}
}

// firstWrite records how many rows had been pulled when the destination
// first received bytes.
type firstWrite struct {
	c    *counting
	seen int64
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.seen == 0 {
		w.seen = w.c.pulled.Load()
	}
	return len(p), nil
}

// Backpressure (issue 8): a Plain export pulls rows only as the
// destination takes them (a buffer's worth ahead); an archive spools each
// module first, so it pulls the rows at disk speed before the destination
// sees the manifest.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	const rows = 100_000
	for _, tc := range []struct {
		kind    export.ArchiveKind
		maxSeen int64
	}{{export.Plain, 4096}, {export.Tar, rows}} {
		ex := export.MustNew(export.Config{TempDir: t.TempDir()})
		c := &counting{n: rows}
		require.NoError(t, ex.Register("m", c))
		w := &firstWrite{c: c}
		_, err := ex.Export(context.Background(), io.Writer(w), export.Request{Scope: export.Scope{Tenant: "t"}, Archive: tc.kind})
		require.NoError(t, err)
		require.Positive(t, w.seen, tc.kind)
		require.LessOrEqual(t, w.seen, tc.maxSeen, tc.kind)
		if tc.kind != export.Plain {
			require.Equal(t, int64(rows), w.seen, "an archive spools the module first")
		}
	}
}

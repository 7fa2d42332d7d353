package export_test

import (
	"context"
	"iter"
	"slices"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/export"
)

// table is a test module: rows whose first column is the subject id.
// Import applies records all-or-nothing, as the Importer contract asks.
type table struct {
	cols []string
	mu   sync.Mutex
	rows map[string][][]string // by tenant
	fail error                 // Records yields this after the first row
}

func newTable(cols ...string) *table {
	return &table{cols: cols, rows: map[string][][]string{}}
}

func (t *table) Columns() []string { return t.cols }

func (t *table) add(tenant string, rows ...[]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows[tenant] = append(t.rows[tenant], rows...)
}

func (t *table) get(tenant string) [][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.rows[tenant])
}

func (t *table) Records(ctx context.Context, s export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for i, r := range t.get(s.Tenant) {
			if t.fail != nil && i == 1 {
				yield(nil, t.fail)
				return
			}
			if s.Subject != "" && r[0] != s.Subject {
				continue
			}
			if ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (t *table) Import(_ context.Context, s export.Scope, cols []string, recs iter.Seq2[[]string, error]) error {
	var pending [][]string
	for r, err := range recs {
		if err != nil {
			return err // roll back: nothing applied
		}
		row := make([]string, len(t.cols))
		for i, c := range cols {
			if j := slices.Index(t.cols, c); j >= 0 {
				row[j] = r[i]
			}
		}
		pending = append(pending, row)
	}
	t.add(s.Tenant, pending...)
	return nil
}

// nasty holds values that exercise quoting, formula escaping and UTF-8.
var nasty = [][]string{
	{"alice", "=SUM(A1:A9)", "+1 555 0100", "plain"},
	{"alice", "'=already quoted", "-5", "@handle"},
	{"bob", "\tTab", "\rCR", "a,b"},
	{"bob", "say \"hi\"", "line\nbreak\r\nmore", ""},
	{"carol", "'plain quote", "''=two", "Zoë ✓ 日本"},
	{"carol", "\u2028sep", "back\\slash", "\x01ctl"},
}

type fixture struct {
	ex       *export.Exporter
	contacts *table
	notes    *table
}

func newFixture(t testing.TB, cfg export.Config) *fixture {
	t.Helper()
	if cfg.TempDir == "" {
		cfg.TempDir = t.TempDir()
	}
	if cfg.ScryptWorkFactor == 0 {
		cfg.ScryptWorkFactor = 10 // cheap in tests
	}
	f := &fixture{ex: export.MustNew(cfg), contacts: newTable("subject", "name", "phone", "note"), notes: newTable("subject", "text")}
	require.NoError(t, f.ex.Register("contacts", f.contacts))
	require.NoError(t, f.ex.Register("notes", f.notes))
	f.contacts.add("t1", nasty...)
	f.notes.add("t1", []string{"alice", "first"}, []string{"bob", "second"}, []string{"alice", "=cmd|' /C calc'!A0"})
	return f
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	return id
}

package asvs_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the module root, two levels above this package.
const root = "../.."

// levels12 lists every Level 1 and Level 2 requirement of ASVS 5.0.0 in the
// chapters SECURITY.md maps (V6, V7, V11, V14, V16): 92 in all. Each must
// have a row, marked ready, host or n/a.
var levels12 = strings.Fields(`
	6.1.1 6.1.2 6.1.3
	6.2.1 6.2.2 6.2.3 6.2.4 6.2.5 6.2.6 6.2.7 6.2.8 6.2.9 6.2.10 6.2.11 6.2.12
	6.3.1 6.3.2 6.3.3 6.3.4
	6.4.1 6.4.2 6.4.3 6.4.4
	6.5.1 6.5.2 6.5.3 6.5.4 6.5.5
	6.6.1 6.6.2 6.6.3
	6.8.1 6.8.2 6.8.3 6.8.4
	7.1.1 7.1.2 7.1.3
	7.2.1 7.2.2 7.2.3 7.2.4
	7.3.1 7.3.2
	7.4.1 7.4.2 7.4.3 7.4.4 7.4.5
	7.5.1 7.5.2
	7.6.1 7.6.2
	11.1.1 11.1.2
	11.2.1 11.2.2 11.2.3
	11.3.1 11.3.2 11.3.3
	11.4.1 11.4.2 11.4.3 11.4.4
	11.5.1
	11.6.1
	14.1.1 14.1.2
	14.2.1 14.2.2 14.2.3 14.2.4
	14.3.1 14.3.2 14.3.3
	16.1.1
	16.2.1 16.2.2 16.2.3 16.2.4 16.2.5
	16.3.1 16.3.2 16.3.3 16.3.4
	16.4.1 16.4.2 16.4.3
	16.5.1 16.5.2 16.5.3
`)

// row is one line of the mapping table.
type row struct {
	line   int
	id     string
	host   string   // what the host must do
	tests  []string // `dir.TestName` references, and TODO(...) placeholders
	status string
}

var (
	idRe = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	// A test reference: a directory relative to the module root (or "." for
	// the root package), a dot, and a Test, Fuzz or Example function,
	// optionally followed by /subtest, and optionally by a note in
	// parentheses (without commas).
	testRe = regexp.MustCompile("^`((?:[a-z0-9_]+/)*[a-z0-9_]+|\\.)\\.((?:Test|Fuzz|Example)[A-Za-z0-9_]*)(/[^`]*)?`( \\([^,()]*\\))?$")
	todoRe = regexp.MustCompile(`^TODO\([a-z0-9 -]+\)$`)
)

// Columns of the table, in order.
const (
	colID = iota
	colLevel
	colRequirement
	colMetBy
	colBulwark
	colHost
	colTests
	colStatus
	numCols
)

// readTable parses the rows of the table under "## OWASP ASVS 5.0 mapping"
// in SECURITY.md.
func readTable(t *testing.T) []row {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "SECURITY.md"))
	require.NoError(t, err)
	defer f.Close()
	var rows []row
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## OWASP ASVS 5.0 mapping"
			continue
		}
		if !in || !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if !idRe.MatchString(cells[0]) {
			continue // header or separator
		}
		require.Len(t, cells, numCols, "SECURITY.md:%d: a row has %d columns, want %d (a '|' inside a cell?)", n, len(cells), numCols)
		r := row{line: n, id: cells[colID], host: cells[colHost], status: cells[colStatus]}
		if cells[colTests] != "—" {
			for _, ref := range strings.Split(cells[colTests], ", ") {
				r.tests = append(r.tests, strings.TrimSpace(ref))
			}
		}
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, "no table under ## OWASP ASVS 5.0 mapping")
	return rows
}

// TestTableCoversLevels12 fails when a Level 1 or 2 requirement has no row,
// a row is repeated, or a row's status or host column breaks the rules:
// ready rows name a test, host rows say what the host must do, n/a rows
// say why and name no test.
func TestTableCoversLevels12(t *testing.T) {
	t.Parallel()
	rows := readTable(t)
	seen := map[string]int{}
	for _, r := range rows {
		if prev, dup := seen[r.id]; dup {
			t.Errorf("SECURITY.md:%d: %s already has a row at line %d", r.line, r.id, prev)
		}
		seen[r.id] = r.line
		switch r.status {
		case "ready":
			if len(r.tests) == 0 {
				t.Errorf("SECURITY.md:%d: %s is ready but names no test", r.line, r.id)
			}
		case "host":
			if r.host == "" || r.host == "—" {
				t.Errorf("SECURITY.md:%d: %s is the host's but does not say what the host must do", r.line, r.id)
			}
		case "n/a":
			if len(r.tests) != 0 || r.host == "" || r.host == "—" {
				t.Errorf("SECURITY.md:%d: %s is n/a: it names no test and says why in the host column", r.line, r.id)
			}
		case "review":
			if slices.Contains(levels12, r.id) {
				t.Errorf("SECURITY.md:%d: %s is Level 1 or 2: it needs a test, not review", r.line, r.id)
			}
		default:
			t.Errorf("SECURITY.md:%d: %s has status %q; want ready, host, n/a or review", r.line, r.id, r.status)
		}
	}
	for _, id := range levels12 {
		if _, ok := seen[id]; !ok {
			t.Errorf("SECURITY.md: ASVS 5.0 %s (Level 1 or 2) has no row", id)
		}
	}
	require.Len(t, levels12, 92)
}

// TestTableNamesRealTests fails when a row names a test that does not
// exist: each `dir.Name` must be a top-level function in a _test.go file
// of that directory.
func TestTableNamesRealTests(t *testing.T) {
	t.Parallel()
	funcs := map[string]map[string]bool{} // dir -> declared test functions
	var todos []string
	for _, r := range readTable(t) {
		for _, ref := range r.tests {
			if todoRe.MatchString(ref) {
				todos = append(todos, r.id+" "+ref)
				continue
			}
			m := testRe.FindStringSubmatch(ref)
			if m == nil {
				t.Errorf("SECURITY.md:%d: %s: %q is not `dir.TestName` or TODO(item)", r.line, r.id, ref)
				continue
			}
			dir, name := m[1], m[2]
			if funcs[dir] == nil {
				fs, err := testFuncs(filepath.Join(root, dir))
				if err != nil {
					t.Errorf("SECURITY.md:%d: %s: %v", r.line, r.id, err)
					continue
				}
				funcs[dir] = fs
			}
			if !funcs[dir][name] {
				t.Errorf("SECURITY.md:%d: %s names %s.%s, which does not exist", r.line, r.id, dir, name)
			}
		}
	}
	if len(todos) > 0 {
		t.Logf("rows waiting for a test: %s", strings.Join(todos, "; "))
	}
}

// testFuncs returns the top-level functions declared in dir's _test.go
// files.
func testFuncs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("no package directory %s", dir)
	}
	fs := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				fs[fd.Name.Name] = true
			}
		}
	}
	return fs, nil
}

// TestCheckerCatchesMissingTests runs the reference check on a made-up
// name, so the table test cannot pass by checking nothing.
func TestCheckerCatchesMissingTests(t *testing.T) {
	t.Parallel()
	fs, err := testFuncs(filepath.Join(root, "keyring"))
	require.NoError(t, err)
	require.True(t, fs["TestADBinding"])
	require.False(t, fs["TestNoSuchTest"])
	require.True(t, testRe.MatchString("`store/sqlstore.TestAuthConformance/postgres`"))
	require.False(t, testRe.MatchString("`keyring.ADBinding`"))
	require.True(t, slices.Contains(levels12, "16.5.2"))
}

package blocklist_test

import (
	"bufio"
	"runtime"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/password/internal/blocklist"
	"github.com/stretchr/testify/require"
)

func TestEveryListedWordIsFound(t *testing.T) {
	t.Parallel()
	s := blocklist.Default()
	require.Equal(t, 30000, s.Len())
	sc := bufio.NewScanner(strings.NewReader(blocklist.Raw()))
	n := 0
	for sc.Scan() {
		n++
		require.True(t, s.Contains(sc.Text()), sc.Text())
	}
	require.Equal(t, 30000, n)
	require.Equal(t, 1, s.Rank("123456"))
	require.Equal(t, 2, s.Rank("password"))
}

func TestAbsentWords(t *testing.T) {
	t.Parallel()
	s := blocklist.Default()
	for _, w := range []string{"", "PASSWORD", "password1234567890xyz", "correct horse battery staple", "zzqxjvw"} {
		require.False(t, s.Contains(w), w)
		require.Zero(t, s.Rank(w), w)
	}
	var nilSet *blocklist.Set
	require.False(t, nilSet.Contains("password"))
}

func TestBuildSkipsBlankAndDuplicateLines(t *testing.T) {
	t.Parallel()
	s := blocklist.Build("a\n\nb\r\na\nc")
	require.Equal(t, 3, s.Len())
	for _, w := range []string{"a", "b", "c"} {
		require.True(t, s.Contains(w))
	}
	require.Equal(t, 3, s.Rank("c"))
}

// TestHeapBudget measures the heap the set costs; the issue caps it at 1 MiB.
// The figure is quoted in the package doc of password.
func TestHeapBudget(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := blocklist.Build(blocklist.Raw())
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(s)
	t.Logf("blocklist set heap: %d bytes (%.0f KiB) for %d words", used, float64(used)/1024, s.Len())
	require.Less(t, used, int64(1<<20))

	// For comparison, the naive map costs far more.
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := make(map[string]struct{})
	for _, w := range strings.Split(blocklist.Raw(), "\n") {
		m[w] = struct{}{}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("map[string]struct{} heap: %d bytes", int64(after.HeapAlloc)-int64(before.HeapAlloc))
	runtime.KeepAlive(m)
}

func BenchmarkContains(b *testing.B) {
	s := blocklist.Default()
	b.ReportAllocs()
	for b.Loop() {
		s.Contains("correcthorse")
	}
}

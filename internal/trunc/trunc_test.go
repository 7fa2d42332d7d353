package trunc_test

import (
	"testing"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/internal/trunc"
)

func TestUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"}, // é is 2 bytes: cutting at 2 would split it
		{"aé", 3, "aé"},
		{"王芳", 4, "王"}, // 3-byte characters
		{"王芳", 2, ""},
	} {
		got := trunc.UTF8(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("UTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

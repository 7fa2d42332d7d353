package password_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

func TestEstimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw       string
		min, max int
		hint     password.Hint
	}{
		{"", 0, 0, password.HintShort},
		{"password", 0, 0, password.HintCommon},
		{"PASSWORD", 0, 0, password.HintCommon},
		{"aaaaaaaaaaaa", 0, 1, password.HintRepeats},
		{"abcdefghijkl", 0, 1, password.HintSequence},
		{"monkeydragon", 1, 2, password.HintCommonWord},
		{"Tr0ub4dor&3", 3, 4, ""},
		{"correct horse battery staple", 4, 4, ""},
		{"x7#Kq9!mZ2@pL5$w", 4, 4, ""},
		{"bulwark-bulwark-bulwark", 0, 1, password.HintContextWord},
	} {
		s := password.Estimate(tc.pw, "Bulwark")
		require.GreaterOrEqual(t, s.Score, tc.min, "%q: %+v", tc.pw, s)
		require.LessOrEqual(t, s.Score, tc.max, "%q: %+v", tc.pw, s)
		if tc.hint != "" {
			require.Contains(t, s.Hints, tc.hint, tc.pw)
		}
		if s.Score == 4 {
			require.NotContains(t, s.Hints, password.HintAddWords, tc.pw)
		}
	}
	require.Equal(t, 0, password.Estimate("\xff\xfe").Score)
}

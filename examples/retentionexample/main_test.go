package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out))
	s := out.String()
	require.Contains(t, s, "suspend unpaid-bob")
	require.Contains(t, s, "blocked: legal hold: litigation 2026-114")
	require.Contains(t, s, "120 days: ")
	require.Contains(t, s, "3 erasures, 0 failures")
	require.NotContains(t, s, "close   held-dee")
}

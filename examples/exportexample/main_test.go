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
	require.NoError(t, run(context.Background(), &out, 1<<20, ""))
	require.Contains(t, out.String(), "exported 13107 rows")
	require.Contains(t, out.String(), "verified")
}

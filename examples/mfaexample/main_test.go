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
	for _, want := range []string{
		"enrolled: 6-digit SHA1 codes every 30s",
		"confirm on A: <nil>",
		"same code on B: mfa: code already used",
		"totp mfa.replayed",
		"send code on A: <nil>",
		"wrong code on B: mfa: invalid code",
		"recovery code on B: 9 left, <nil>",
		"same recovery code on A: mfa: invalid code",
	} {
		require.Contains(t, out.String(), want)
	}
}

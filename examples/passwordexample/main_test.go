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
	require.Contains(t, s, `"Acme2026!"                    default: refused (context_word)`)
	require.Contains(t, s, `"sunshine"                     default: refused (common)`)
	require.Contains(t, s, `"correct horse battery staple" default: ok`)
	require.Contains(t, s, "passes the preset: true")
	require.Contains(t, s, "stored: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>")
	require.Contains(t, s, "right password verifies: true; wrong one: password: mismatch")
	require.Contains(t, s, "legacy bcrypt login verified and upgraded to argon2id")
}

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRun runs the quickstart as the README tells a newcomer to, so the
// README's first command cannot silently break.
func TestRun(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out))
	require.Contains(t, out.String(), "sqlite database migrated")
	require.Contains(t, out.String(), "resolves to 203.0.113.9")
	require.Contains(t, out.String(), "erased on 2026-11-13")
	require.Contains(t, out.String(), `"password123" rejected: common`)
	require.Contains(t, out.String(), "the same code again: mfa: code already used")
	require.Contains(t, out.String(), "one used, 9 left")
	require.Contains(t, out.String(), "every hash verified")
	require.Regexp(t, `registered as LukaszZolc[0-9]+; wrong password: "auth: invalid credentials", unknown user: "auth: invalid credentials"; right password: session started`, out.String())
	require.Contains(t, out.String(), `password changed from "[REDACTED]" to "[REDACTED]" (ip 203.0.113.9)`)
	require.NotContains(t, out.String(), "secret")
	require.Contains(t, out.String(), "chain of 1 record(s) verified")
	require.Contains(t, out.String(), "a second device is refused: session: concurrent session limit reached")
	require.Contains(t, out.String(), "the laptop's session is gone: session: not found")
	require.Contains(t, out.String(), "readable after rotation; copied to another row it fails: true")
}

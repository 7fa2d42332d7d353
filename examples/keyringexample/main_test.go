package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, `stored 3 users, email and address encrypted
found user 2 by blind index: grace@example.com
re-encrypt checkpoint after row 2: 2 re-encrypted
re-encrypt checkpoint after row 3: 3 re-encrypted
rotation done: 3 rows scanned, row 1 under the new key: true
user 2 erased, address unreadable: true
`, out.String())
}

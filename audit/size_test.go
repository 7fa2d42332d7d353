package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// An event whose encoding exceeds the 1 MiB record cap (possible within
// the per-field caps: 256 details of 4 KiB each) is the caller's error:
// it must be refused before it joins a group-commit batch, where it would
// make the store reject the whole batch, failing every other caller's
// Append with it, and must not be swallowed by FailOpen as a store error.
func TestOversizedEventRejectedBeforeBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	details := map[string]string{}
	for i := range 300 {
		details[fmt.Sprintf("k%03d", i)] = strings.Repeat("x ", 2048)
	}
	var reported []error
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{FailOpen: true, OnError: func(_ context.Context, err error) { reported = append(reported, err) }}))
	_, err := l.Append(ctx, audit.Entry{Action: "record.updated", Details: details})
	require.ErrorIs(t, err, audit.ErrInvalidEntry)
	require.NotErrorIs(t, err, audit.ErrWrite)
	require.Empty(t, reported)
	// Just under the cap still works.
	small := map[string]string{}
	for i := range 200 {
		small[fmt.Sprintf("k%03d", i)] = strings.Repeat("x ", 2048)
	}
	_, err = l.Append(ctx, audit.Entry{Action: "record.updated", Details: small})
	require.NoError(t, err)
}

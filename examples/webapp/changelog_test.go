package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

// TestClientChangeAndRecordCommitTogether: the insert, update or delete of
// a client and its change-log record commit in one transaction. A write
// that fails after its record was appended leaves no record of a change
// that never happened (only the failure, as such), and a committed change
// always has its record.
func TestClientChangeAndRecordCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ta, c, _ := signedInUser(t)
	// The database refuses clients named "boom", after the app has made
	// and logged the change in its transaction.
	_, err := ta.db.ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE INSERT ON webapp_clients
		WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	require.NoError(t, err)
	_, err = ta.db.ExecContext(ctx, `CREATE TRIGGER refuse_boom_update BEFORE UPDATE ON webapp_clients
		WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	require.NoError(t, err)

	successes := func(action string) int {
		p, err := ta.audit.Query(ctx, audit.Filter{ActionPrefix: action, Outcome: audit.Success, Limit: 1000})
		require.NoError(t, err)
		return len(p.Records)
	}
	clients := func() int {
		var n int
		require.NoError(t, ta.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webapp_clients`).Scan(&n))
		return n
	}

	res := ta.do(t, c, "POST", "/clients/new", url.Values{"name": {"boom"}})
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	require.Equal(t, 0, clients())
	require.Equal(t, 0, successes("client.created"), "no record of a client that was never created")

	res = ta.do(t, c, "POST", "/clients/new", url.Values{"name": {"Grace"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, 1, clients())
	require.Equal(t, 1, successes("client.created"))

	var id string
	require.NoError(t, ta.db.QueryRowContext(ctx, `SELECT id FROM webapp_clients`).Scan(&id))
	res = ta.do(t, c, "POST", "/clients/"+id, url.Values{"name": {"boom"}})
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	require.Equal(t, 0, successes("client.updated"), "no record of an update that was rolled back")

	_, err = ta.audit.Verify(ctx, audit.VerifyOptions{AllStreams: true})
	require.NoError(t, err)
}

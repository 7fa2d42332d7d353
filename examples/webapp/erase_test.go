package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/stretchr/testify/require"
)

// TestDeleteAccountWithoutSecondFactor: a user who never enrolled an
// authenticator app can delete their account (the factors eraser took
// mfa's ErrNotEnrolled for a failure, and every such erasure ended in a
// 500).
func TestDeleteAccountWithoutSecondFactor(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	ta.signUpAndIn(t, browser(t), "admin@example.com")
	c := browser(t)
	ta.signUpAndIn(t, c, "bob@example.com")
	res := ta.do(t, c, "POST", "/account/delete", url.Values{"password": {testPassword}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/signin?deleted=1", res.Header.Get("Location"))
}

// TestMakeAdminUnknownUserNotAudited: "Make administrator" for an id that
// names nobody grants nothing, so the audit log must not say the role was
// granted.
func TestMakeAdminUnknownUserNotAudited(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	admin := browser(t)
	ta.signUpAndIn(t, admin, "admin@example.com")
	res := ta.do(t, admin, "POST", "/admin/users/no-such-user/admin", url.Values{})
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	recs, err := ta.audit.Query(t.Context(), audit.Filter{ActionPrefix: "admin.role.granted"})
	require.NoError(t, err)
	require.Empty(t, recs, "a grant that did not happen was audited")
}

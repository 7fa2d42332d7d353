package bulwark_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func sqlDeps(t testing.TB, db testenv.SQLDB, mail bulwark.Mailer) bulwark.Deps {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db.Open(t))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	kek, err := keyring.NewLocalKEK(make([]byte, 32))
	require.NoError(t, err)
	return bulwark.Deps{Users: st.Users(), Auth: st.Auth(), Sessions: st.Session(), MFA: st.MFA(),
		Audit: st.Audit(), Keys: st.Keyring(), KEK: kek, Mailer: mail}
}

// TestSignInWithMFAOnSQL runs the whole sign-in with a second factor and
// the single-session rule through the handlers on PostgreSQL and SQLite,
// every store (users included) in SQL.
func TestSignInWithMFAOnSQL(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, func(m bulwark.Mailer) bulwark.Deps { return sqlDeps(t, db, m) }, nil)
			laptop, phone := e.browser(t, "192.0.2.10"), e.browser(t, "2001:db8::7")
			login := e.signUp(t, laptop, "Иван", "Петров", "ivan@example.com")
			require.Regexp(t, `^IvanPetrov[0-9]{2,}$`, login)
			r := laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
			require.JSONEq(t, `{"next":"done"}`, r.body)
			require.Equal(t, http.StatusNoContent, laptop.do("POST", "/auth/reauth", map[string]string{"password": testPassword}).status)
			code := e.enrolTOTP(t, laptop)
			require.Equal(t, http.StatusNoContent, laptop.do("POST", "/auth/signout", nil).status)

			// Password, then TOTP: signed in.
			r = laptop.do("POST", "/auth/signin", map[string]string{"login": "IVAN@example.com", "password": testPassword})
			require.JSONEq(t, `{"next":"mfa"}`, r.body)
			r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
			require.JSONEq(t, `{"next":"done"}`, r.body)
			// The phone gets as far as the second factor, then the
			// single-session rule refuses it.
			r = phone.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
			require.JSONEq(t, `{"next":"mfa"}`, r.body)
			e.clock.Add(30 * time.Second)
			r = phone.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
			require.Equal(t, http.StatusConflict, r.status, r.body)
			require.Equal(t, "session_limit", r.code())
			// The laptop's session is intact and lists one session.
			r = laptop.do("GET", "/auth/sessions", nil)
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.Contains(t, r.body, `"factors":["password","totp"]`)

			// The audit chain verifies.
			reps, err := e.audit.Verify(context.Background(), audit.VerifyOptions{AllStreams: true})
			require.NoError(t, err)
			require.NotEmpty(t, reps)
			require.Positive(t, reps[0].Records)
		})
	}
}

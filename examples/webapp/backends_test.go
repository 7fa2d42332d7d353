package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// TestPostgresAndRedis runs the journey over HTTP with the production
// set-up: PostgreSQL for data, Redis for sessions, codes and counters.
func TestPostgresAndRedis(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	rdb, prefix := testenv.Redis(t)
	ta := newTestApp(t, func(c *Config) {
		c.DB, c.Redis, c.RedisPrefix = pg, rdb, prefix
		c.AllowVolatileRedis = true // the shared test Redis keeps no AOF
	})

	ta.signUpAndIn(t, browser(t), "admin@example.com") // so that ada is not the last administrator
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	secret := ta.enrolTOTP(t, c)
	ta.do(t, c, "POST", "/signout", url.Values{})
	ta.clock.Add(time.Minute)
	ta.signInTOTP(t, c, "ada@example.com", secret)

	// A client, edited: the change log has the diff and the IP.
	require.Equal(t, http.StatusSeeOther, ta.do(t, c, "POST", "/clients/new", url.Values{"name": {"Ada Lovelace"}, "notes": {"sealed note"}}).StatusCode)
	id := regexp.MustCompile(`href="/clients/([0-9a-f-]{36})"`).FindStringSubmatch(ta.do(t, c, "GET", "/clients", nil).Body)
	require.NotNil(t, id)
	ta.do(t, c, "POST", "/clients/"+id[1], url.Values{"name": {"Ada King"}, "notes": {"sealed note"}})
	page := ta.do(t, c, "GET", "/clients/"+id[1], nil).Body
	require.Contains(t, page, "Changed")
	require.Contains(t, page, "127.0.0.1")
	require.Contains(t, page, "Ada King")

	// Export, waiting on the progress endpoint as the page does.
	key, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	ta.clock.Add(time.Minute) // a fresh code: the sign-in's is spent
	ta.do(t, c, "POST", "/account/export", url.Values{"recipient": {key.Recipient().String()}, "password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Eventually(t, func() bool {
		var job exportJob
		return json.Unmarshal([]byte(ta.do(t, c, "GET", "/account/export/status", nil).Body), &job) == nil && job.Ready
	}, 5*time.Minute, 20*time.Millisecond) // a guard against a hang, not a speed requirement
	archive := ta.do(t, c, "GET", "/account/export/download", nil)
	require.Equal(t, "no-store", archive.Header.Get("Cache-Control"))
	r, err := age.Decrypt(bytes.NewReader([]byte(archive.Body)), key)
	require.NoError(t, err)
	plain, err := io.ReadAll(r)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	require.NoError(t, err)
	require.NotEmpty(t, zr.File)

	// Erase: the account and its rows are gone, and it cannot sign in.
	ta.clock.Add(time.Minute)
	res := ta.do(t, c, "POST", "/account/delete", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Equal(t, "/signin?deleted=1", res.Header.Get("Location"), res.Body)
	var n int
	require.NoError(t, pg.QueryRow(`SELECT count(*) FROM webapp_users WHERE email = 'ada@example.com'`).Scan(&n))
	require.Zero(t, n)
	receipts, err := ta.audit.Query(t.Context(), audit.Filter{ActionPrefix: "retention.erased"})
	require.NoError(t, err)
	require.Len(t, receipts.Records, 1, "a PII-free erasure receipt in the audit log")
	require.Equal(t, "true", receipts.Records[0].Details["key_shredded"])
	_, err = ta.audit.Verify(t.Context(), audit.VerifyOptions{AllStreams: true})
	require.NoError(t, err, "the chain still verifies after the erasure")
	other := browser(t)
	ta.do(t, other, "GET", "/signin", nil)
	require.Equal(t, http.StatusUnauthorized, ta.do(t, other, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}}).StatusCode)
}

// TestVolatileRedisRefusedAtStart: on a Redis that would forget used codes
// and lockouts on a restart, the demo refuses to start and names the flag,
// instead of starting and then denying every sign-in. Whatever the shared
// test Redis is, the demo's answer must agree with redisstore's verdict.
func TestVolatileRedisRefusedAtStart(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	verdict := redisstore.New(rdb, prefix).CheckPersistence(t.Context())
	kek, err := keyring.NewLocalKEK(keyring.GenerateMasterKey().Bytes())
	require.NoError(t, err)
	_, err = New(t.Context(), Config{
		DB: testenv.SQLite(t), KEK: kek, AuditKey: keyring.GenerateMasterKey().Bytes(),
		Redis: rdb, RedisPrefix: prefix, Mail: io.Discard, Log: slog.New(slog.DiscardHandler),
	})
	if errors.Is(verdict, redisstore.ErrVolatileRedis) {
		require.ErrorIs(t, err, redisstore.ErrVolatileRedis)
		require.ErrorContains(t, err, "-redis-allow-volatile")
		return
	}
	require.NoError(t, verdict)
	require.NoError(t, err, "a persistent Redis is accepted")
}

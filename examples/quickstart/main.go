// Command quickstart walks through every Bulwark package that has landed so
// far and prints what it did. It needs no server: it keeps its data in an
// SQLite file in a temporary directory, removed at exit.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "bulwark-quickstart-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	// 1. Storage: an embedded SQLite database with Bulwark's schema.
	dsn := "file:" + filepath.Join(dir, "app.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	ms, err := sqlstore.Migrations(st.Dialect())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "storage: %s database migrated, %d migrations applied:\n", st.Dialect(), len(ms))
	for _, m := range ms {
		fmt.Fprintf(w, "  %s/%04d %s\n", m.Component, m.Version, m.Name)
	}

	// 2. Client addresses: X-Forwarded-For is believed only from proxies
	// the app trusts, so a client cannot choose the IP the audit log shows.
	res := clientip.New(netip.MustParsePrefix("10.0.0.0/8"))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:41000"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.9")
	fmt.Fprintf(w, "client ip: request via load balancer 10.0.0.2 with a spoofed entry resolves to %s\n", res.String(r))

	// 3. Keyring: encrypt a personal field bound to its row, find it by a
	// blind index, rotate keys, and still read it. In production the master
	// key comes from the environment or a KMS, never the database.
	master := keyring.GenerateMasterKey()
	kek, err := keyring.NewLocalKEK(master.Bytes())
	master.Zero()
	if err != nil {
		return err
	}
	kr, err := keyring.New(st.Keyring(), kek, keyring.Config{})
	if err != nil {
		return err
	}
	ad := keyring.AD("users", "email", "42")
	ct, err := kr.EncryptString(ctx, "ada@example.com", ad)
	if err != nil {
		return err
	}
	if _, err := kr.Rotate(ctx); err != nil {
		return err
	}
	pt, err := kr.DecryptString(ctx, ct, ad)
	if err != nil {
		return err
	}
	_, errMoved := kr.DecryptString(ctx, ct, keyring.AD("users", "email", "43"))
	fmt.Fprintf(w, "keyring: %s sealed (%d chars), readable after rotation; copied to another row it fails: %v\n", pt, len(ct), errMoved != nil)

	// 4. Retention: when will a trial account that never subscribed be
	// erased? The zero Config uses the saas-lifecycle preset.
	rs := st.Retention()
	rm, err := retention.New(rs, retention.Config{})
	if err != nil {
		return err
	}
	rm.Register("profile", retention.EraserFunc(func(context.Context, string) error { return nil }))
	trialEnded := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := rs.PutSubject(ctx, retention.Subject{ID: "ada", State: retention.StateTrialExpired, Since: trialEnded}); err != nil {
		return err
	}
	plans, err := rm.Plan(ctx, "ada")
	if err != nil {
		return err
	}
	if e, ok := plans[0].NextErasure(); ok {
		fmt.Fprintf(w, "retention: trial ended %s, so ada's data is erased on %s (rule %q)\n",
			trialEnded.Format(time.DateOnly), e.Due.Format(time.DateOnly), e.Rule)
	}
	return nil
}

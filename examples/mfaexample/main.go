// Command mfaexample walks through package mfa on an SQLite file: TOTP
// enrollment and confirmation, a replayed code refused by a second app
// instance, an emailed code printed by the development sender, and
// recovery codes. It needs no server.
//
//	go run ./examples/mfaexample
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mfaexample:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "bulwark-mfaexample-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	dsn := "file:" + filepath.Join(dir, "app.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"

	// In production the sealer is keyring's *Keyring; this one is an
	// AES-GCM key that lives in memory. Both "instances" share it, as
	// they would share a keyring.
	sealer := mfatest.NewSealer()
	var dbs []*sql.DB
	defer func() {
		for _, db := range dbs {
			_ = db.Close()
		}
	}()
	instance := func() (*mfa.Manager, error) {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
		st := sqlstore.New(db, sqlstore.SQLite)
		if err := st.Migrate(ctx); err != nil {
			return nil, err
		}
		return mfa.New(st.MFA(), sealer, mfa.Config{
			Issuer: "Example",
			Sender: &mfa.ConsoleSender{W: w}, // development only: prints codes
			Hook: func(_ context.Context, e mfa.Event) {
				fmt.Fprintf(w, "  event: %s %s %s\n", e.Factor, e.Type, e.Reason)
			},
		})
	}
	a, err := instance()
	if err != nil {
		return err
	}
	b, err := instance()
	if err != nil {
		return err
	}

	// Enrollment on instance A: the user scans the QR code...
	e, err := a.EnrollTOTP(ctx, "user-1", "alice@example.com")
	if err != nil {
		return err
	}
	qr := filepath.Join(dir, "totp.png")
	if err := os.WriteFile(qr, e.QRCodePNG, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(w, "enrolled: %d-digit %s codes every %s, QR code %d bytes\n", e.Digits, e.Algorithm, e.Period, len(e.QRCodePNG))

	// ...and types the code the app shows (computed here).
	k, err := mfa.ParseKeyURI(e.URI)
	if err != nil {
		return err
	}
	code, err := mfatest.Code(k.Secret, k.Algorithm, k.Digits, k.Period, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "confirm on A:", a.ConfirmTOTP(ctx, "user-1", code))
	fmt.Fprintln(w, "same code on B:", b.VerifyTOTP(ctx, "user-1", code))

	// An emailed code: sent by A, checked by B.
	fmt.Fprintln(w, "send code on A:", a.SendCode(ctx, "user-1", "alice@example.com", mfa.PurposeLogin))
	fmt.Fprintln(w, "wrong code on B:", b.VerifyCode(ctx, "user-1", mfa.PurposeLogin, "000000"))

	codes, err := a.GenerateRecoveryCodes(ctx, "user-1")
	if err != nil {
		return err
	}
	left, err := b.UseRecoveryCode(ctx, "user-1", codes[0])
	fmt.Fprintln(w, "recovery code on B:", left, "left,", err)
	_, err = a.UseRecoveryCode(ctx, "user-1", codes[0])
	fmt.Fprintln(w, "same recovery code on A:", err)
	return nil
}

package main

import (
	"context"
	"database/sql"
	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib"
	"log"
	"net/http"
	"os"
)

func main() {
	st := must(sqlstore.Open(context.Background(), must(sql.Open("pgx", os.Getenv("DATABASE_URL")))))
	must(st, st.Migrate(context.Background()))          // creates or updates the bulwark_ tables
	kek := must(keyring.LocalKEKFromEnv("BULWARK_KEK")) // 64 hex digits, kept out of the database
	b := must(bulwark.New(bulwark.Deps{Users: st.Users(), Auth: st.Auth(), Sessions: st.Session(),
		MFA: st.MFA(), Audit: st.Audit(), Keys: st.Keyring(), KEK: kek}, bulwark.Config{}))
	http.Handle("/auth/", b.Handler()) // JSON: sign-up, sign-in with MFA, sessions, reset, ...
	log.Fatal(http.ListenAndServe(os.Getenv("ADDR"), nil))
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

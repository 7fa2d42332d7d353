// Command webapp is Bulwark's demo SaaS: a small client database with
// sign-up, two-factor sign-in, session management, an audited "clients"
// module, encrypted data export, account deletion and an admin page, each
// built from a Bulwark package.
//
//	go run ./examples/webapp                 # http://127.0.0.1:8080, SQLite
//	go run ./examples/webapp -tls            # https with a development certificate
//	go run ./examples/webapp -db 'postgres://user:pw@127.0.0.1:5432/app' -redis 127.0.0.1:6379
//
// Flags may also be given as environment variables: BULWARK_DB,
// BULWARK_REDIS, BULWARK_MASTER_KEY and BULWARK_AUDIT_KEY (256-bit keys,
// hex or base64; without them key files are created in a temporary
// directory, for development only).
//
// Mail is off unless -dev-mail turns on the development mailbox, where
// each signed-in user reads their own mail; -dev-mail-insecure (loopback
// only) shows every message to anyone, for trying password resets locally.
//
// The first account created is the administrator.
package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the host picks the drivers; Bulwark imports none
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"

	"github.com/bulwarkhq/bulwark/keyring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// run serves the demo until ctx ends. It binds the address first, so a
// port already taken fails at once, before anything is opened or printed,
// and the banner appears only once the server is listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dataDir := filepath.Join(os.TempDir(), "bulwark-webapp")
	flags := flag.NewFlagSet("webapp", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen address")
	dsn := flags.String("db", env("BULWARK_DB", filepath.Join(dataDir, "app.db")), "SQLite file, or a postgres:// URL")
	redisAddr := flags.String("redis", env("BULWARK_REDIS", ""), "Redis address for sessions and one-time codes (optional)")
	redisVolatile := flags.Bool("redis-allow-volatile", false, "accept a Redis without AOF or snapshots (development only: used codes and lockouts are forgotten on restart)")
	useTLS := flags.Bool("tls", false, "serve HTTPS with a generated development certificate")
	devMail := flags.Bool("dev-mail", false, "development mailbox at /dev/mailbox: each signed-in user reads their own mail")
	openMail := flags.Bool("dev-mail-insecure", false, "development mailbox open to anyone, reset links and codes included (loopback -addr only)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *openMail && !loopback(*addr) {
		return fmt.Errorf("-dev-mail-insecure shows every reset link and sign-in code to anyone who reaches the server: it needs a loopback -addr, not %q", *addr)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (choose another address with -addr, for example -addr 127.0.0.1:8081): %w", *addr, err)
	}
	defer func() { _ = ln.Close() }()

	db, err := openDB(*dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	kek, err := loadKEK(dataDir)
	if err != nil {
		return err
	}
	auditKey, err := loadAuditKey(dataDir)
	if err != nil {
		return err
	}
	scheme := "http"
	if *useTLS {
		scheme = "https"
	}
	cfg := Config{DB: db, KEK: kek, AuditKey: auditKey, TLS: *useTLS, BaseURL: scheme + "://" + ln.Addr().String(),
		DevMailbox: *devMail, InsecureOpenMailbox: *openMail}
	if *redisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
		defer func() { _ = rdb.Close() }()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		cfg.Redis = rdb
		cfg.AllowVolatileRedis = *redisVolatile
	}
	app, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	go func() {
		if err := app.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("housekeeping stopped", "err", err)
		}
	}()

	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second) // ctx is done: shutdown gets time of its own
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if *useTLS {
		cert, err := devCertificate()
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	_, _ = fmt.Fprintln(stderr, mailNotice(cfg))
	_, _ = fmt.Fprintf(stdout, "Bulwark demo on %s (database: %s)\n", cfg.BaseURL, redactDSN(*dsn))
	if *useTLS {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// mailNotice says at start-up where mail goes, loudly when anyone can
// read it.
func mailNotice(cfg Config) string {
	switch {
	case cfg.InsecureOpenMailbox:
		return "webapp: WARNING: -dev-mail-insecure: every message, reset links and sign-in codes included, " +
			"is readable by anyone at /dev/mailbox. Development on your own machine only."
	case cfg.DevMailbox:
		return "webapp: development mail is on: signed-in users read their own mail at /dev/mailbox."
	}
	return "webapp: mail is off (no mailer configured): messages are dropped. Sign in with your email address; " +
		"-dev-mail shows users their own mail at /dev/mailbox."
}

// loopback says whether addr (host:port) listens on a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// openDB opens PostgreSQL for postgres:// URLs and SQLite for anything
// else, with the SQLite settings sqlstore documents.
func openDB(dsn string) (*sql.DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			sizePool(db, postgresConns)
		}
		return db, err
	}
	if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err == nil {
		sizePool(db, sqliteConns)
	}
	return db, err
}

// loadKEK reads the master key from BULWARK_MASTER_KEY. Without it, for
// development, it keeps one in a file beside the database; a production
// deployment takes it from a secret manager or a KMS.
func loadKEK(dir string) (keyring.KEK, error) {
	if os.Getenv("BULWARK_MASTER_KEY") != "" {
		return keyring.LocalKEKFromEnv("BULWARK_MASTER_KEY")
	}
	path, err := devKeyFile(dir, "master.key")
	if err != nil {
		return nil, err
	}
	return keyring.LocalKEKFromFile(path)
}

// loadAuditKey reads the audit checkpoint key from BULWARK_AUDIT_KEY, or a
// development key file.
func loadAuditKey(dir string) ([]byte, error) {
	text := os.Getenv("BULWARK_AUDIT_KEY")
	if text == "" {
		path, err := devKeyFile(dir, "audit.key")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path) //nolint:gosec // our own key file
		if err != nil {
			return nil, err
		}
		text = string(b)
	}
	k, err := keyring.ParseMasterKey(strings.TrimSpace(text))
	if err != nil {
		return nil, err
	}
	return k.Bytes(), nil
}

// devKeyFile creates dir/name with a random 256-bit key unless it exists.
// O_EXCL: two processes starting at once keep the same key.
func devKeyFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // our own key file
	if errors.Is(err, os.ErrExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	k := keyring.GenerateMasterKey()
	defer k.Zero()
	_, err = f.WriteString(hex.EncodeToString(k.Bytes()) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	fmt.Fprintln(os.Stderr, "webapp: development key written to", path)
	return path, nil
}

func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "@"); i > 0 && strings.Contains(dsn, "://") {
		return dsn[:strings.Index(dsn, "://")+3] + "…" + dsn[i:]
	}
	return dsn
}

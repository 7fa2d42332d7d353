package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/export"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/redisstore"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// Config is what main (or a test) decides about the app.
type Config struct {
	// DB is the database holding Bulwark's tables and the app's own:
	// SQLite or PostgreSQL. Required.
	DB *sql.DB
	// Redis, when set, holds what Redis suits: sessions, and mfa's
	// used-code marks, attempt counters and emailed codes.
	Redis redis.UniversalClient
	// RedisPrefix starts every key the app keeps in Redis. Default "webapp:".
	RedisPrefix string
	// AllowVolatileRedis accepts a Redis that keeps no AOF and takes no
	// snapshots (redisstore.Store.AllowVolatileRedis): used codes and
	// lockouts are forgotten when it restarts. Development only.
	AllowVolatileRedis bool
	// KEK wraps the keyring's data keys. In production it comes from the
	// environment or a KMS (keyring.LocalKEKFromEnv), never the database.
	KEK keyring.KEK
	// TLS says the app is served over HTTPS: cookies get Secure and the
	// __Host- prefix, and responses carry HSTS.
	TLS bool
	// ClientIP decides which proxies may set X-Forwarded-For.
	ClientIP clientip.Resolver
	// IdleTimeout logs a user out after this much inactivity. Default 10 minutes.
	IdleTimeout time.Duration
	// BannerPoll is how often signed-in pages ask how long their session
	// has left, for the "expiring soon" banner. Default 30 seconds.
	BannerPoll time.Duration
	// HashParams for new password hashes; zero means password's defaults
	// (argon2id, 64 MiB). Tests use tiny ones.
	HashParams password.Params
	// ExportWorkFactor is the scrypt cost of passphrase-encrypted
	// exports; zero means export's default (2^18, about a second).
	ExportWorkFactor int
	// AuditKey signs the audit log's checkpoints (HMAC-SHA256, at least
	// 32 bytes). Required.
	AuditKey []byte
	// BaseURL is where users reach the app, for links in mail. Default
	// http://127.0.0.1:8080.
	BaseURL string
	// DevMailbox turns on the development mailbox at /dev/mailbox, where
	// a signed-in user reads the mail sent to their own address, and only
	// that. Off by default: mail is then dropped (the app has no real
	// mailer), and the console says so without the message's content.
	DevMailbox bool
	// InsecureOpenMailbox shows every message at /dev/mailbox to anyone
	// who reaches the server, signed in or not, so that reset links and
	// emailed sign-in codes can be read on one's own machine. Anyone who
	// can open the page can take over any account: main allows it only on
	// a loopback address, and every page carries a banner saying so.
	InsecureOpenMailbox bool
	// Mail receives one line per message (recipient and subject, never
	// the body), as the console side of the development mailer. Default
	// standard error.
	Mail io.Writer
	// Log receives errors. Default slog's default logger.
	Log *slog.Logger
	// Now is the clock. Default time.Now. The browser test injects a
	// clock it can move forward to watch a session time out.
	Now func() time.Time
}

// App holds every Bulwark component and the app's own data.
type App struct {
	cfg           Config
	db            db
	sessions      *session.Manager
	factors       *mfa.Manager
	keys          *keyring.Keyring
	hasher        *password.Hasher
	policy        password.Policy
	exporter      *export.Exporter
	lifecycle     *retention.Manager
	subjects      retention.SubjectStore
	retentionLock retention.Locker
	mail          *devMailer
	exports       *exportJobs
	auth          *auth.Authenticator
	authStore     auth.Store
	audit         *audit.Log
	pages         *pages
	once          *onceGuard
}

// New wires Bulwark into the app: migrations, then one component after the
// other. Every component gets the same clock.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DB == nil || cfg.KEK == nil || len(cfg.AuditKey) < 32 {
		return nil, errors.New("webapp: Config.DB, Config.KEK and a 32-byte Config.AuditKey are required")
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = "webapp:"
	}
	if cfg.BannerPoll <= 0 {
		cfg.BannerPoll = 30 * time.Second
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1:8080"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Mail == nil {
		cfg.Mail = os.Stderr
	}
	a := &App{cfg: cfg, once: newOnceGuard(cfg.Now)}

	// Storage: Bulwark's schema (bulwark_* tables), then the app's.
	st, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	a.db = db{sql: cfg.DB, st: st}
	if err := a.db.migrate(ctx); err != nil {
		return nil, err
	}

	// Keyring: seals TOTP secrets, and each user's client notes under a
	// key of their own, destroyed when the account is erased.
	if a.keys, err = keyring.New(st.Keyring(), cfg.KEK, keyring.Config{Now: cfg.Now}); err != nil {
		return nil, err
	}

	// Passwords: NIST SP 800-63B policy (length, blocklist, context
	// words) and argon2id hashes.
	// The limits are spelled out because the pages show them: no password
	// field truncates (ASVS 6.2.8), the hint says what the policy allows.
	a.policy = password.Policy{ContextWords: []string{"bulwark", "webapp"},
		MinLength: 8, MaxLength: 128} // the package defaults (ASVS 6.2.1, 6.2.9)
	if a.hasher, err = password.New(password.Config{Params: cfg.HashParams}); err != nil {
		return nil, err
	}

	// Sessions: the single-session rule and the idle timeout are
	// session's defaults. Sessions go to Redis when there is one.
	sessionStore := st.Session()
	var mfaStore mfa.Store = st.MFA()
	if cfg.Redis != nil {
		rs := redisstore.New(cfg.Redis, cfg.RedisPrefix)
		rs.AllowVolatileRedis = cfg.AllowVolatileRedis
		if err := rs.CheckPersistence(ctx); err != nil {
			if errors.Is(err, redisstore.ErrVolatileRedis) {
				return nil, fmt.Errorf("%w: used sign-in codes and lockouts would be forgotten on a restart; turn on appendonly or snapshots, or pass -redis-allow-volatile for development", err)
			}
			return nil, fmt.Errorf("redis: %w", err)
		}
		sessionStore = rs.Session()
		mfaStore = mfa.Stores{TOTPStore: st.MFA(), RecoveryStore: st.MFA(), EmailFactorStore: st.MFA(),
			StepStore: rs.MFA(), CounterStore: rs.MFA(), OOBStore: rs.MFA()}
	}
	a.sessions, err = session.New(sessionStore, session.Config{
		IdleTimeout:       cfg.IdleTimeout,
		InsecureDevCookie: !cfg.TLS, // plain http://127.0.0.1 in development only
		ClientIP:          cfg.ClientIP,
		Unauthenticated:   http.HandlerFunc(a.signinRedirect),
		OnError:           a.logError,
		Hook:              a.onSessionEvent,
		Now:               cfg.Now,
	})
	if err != nil {
		return nil, err
	}

	// Second factors, with the development mailer for emailed codes.
	a.mail = newDevMailer(cfg.Mail, cfg.Now, cfg.DevMailbox || cfg.InsecureOpenMailbox)
	if a.factors, err = mfa.New(mfaStore, a.keys, mfa.Config{
		Issuer: "Bulwark demo",
		Sender: a.mail,
		Hook:   a.onMFAEvent,
		Now:    cfg.Now,
	}); err != nil {
		return nil, err
	}

	// Export: the user's data as CSV files in a zip, age-encrypted.
	if a.exporter, err = export.New(export.Config{Now: cfg.Now, ScryptWorkFactor: cfg.ExportWorkFactor}); err != nil {
		return nil, err
	}
	for _, m := range []struct {
		name string
		mod  export.Module
	}{{"profile", profileModule{a}}, {"clients", clientsModule{a}}, {"sessions", sessionsModule{a}}} {
		if err := a.exporter.Register(m.name, m.mod); err != nil {
			return nil, err
		}
	}
	a.exports = newExportJobs()

	// Audit: one tamper-evident stream for the app, checkpoints signed
	// with an HMAC key so that truncation is caught too.
	auditKey, err := audit.NewHMACKey("webapp-1", cfg.AuditKey)
	if err != nil {
		return nil, err
	}
	if a.audit, err = audit.New(st.Audit(), audit.Config{
		Now:     cfg.Now,
		Signer:  auditKey,
		OnError: a.logError,
	}); err != nil {
		return nil, err
	}

	// Auth: the sign-up and sign-in flows, composed from the packages
	// above through the adapters in wire.go. Lockout counters, reset
	// tokens and pending second factors go to Redis when there is one.
	a.authStore = st.Auth()
	if cfg.Redis != nil {
		rs := redisstore.New(cfg.Redis, cfg.RedisPrefix)
		rs.AllowVolatileRedis = cfg.AllowVolatileRedis
		ra := rs.Auth()
		a.authStore = auth.SplitStore(st.Auth(), ra, st.Auth(), ra)
	}
	if a.auth, err = auth.New(auth.Deps{
		Store:    a.authStore,
		Users:    credentials{db: a.db, now: cfg.Now},
		Hasher:   a.hasher,
		Policy:   a.policy,
		Sessions: bulwark.SessionIssuer(a.sessions),
		MFA:      bulwark.MFAVerifier(a.factors), // the factors each user enrolled in mfa,
		Auditor:  bulwark.Auditor(a.audit, ""),   // one stream for the whole app
		Notifier: auth.NotifierFunc(a.notify),
		Mailer:   a,
	}, auth.Config{Now: cfg.Now}); err != nil {
		return nil, err
	}

	// Retention: the saas-lifecycle preset; "delete my account" erases
	// at once through the same erasers the scheduler would use.
	rs := st.Retention()
	a.subjects, a.retentionLock = rs, rs
	if a.lifecycle, err = retention.New(rs, retention.Config{
		Shredder: a.keys.Admin(),           // erasure destroys the user's keyring key
		Recorder: erasureRecorder{a.audit}, // and leaves a PII-free receipt in the audit log
		Now:      cfg.Now, Logger: cfg.Log,
	}); err != nil {
		return nil, err
	}
	a.registerErasers()

	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return a, nil
}

// Handler is the whole app: routes inside the security middleware.
func (a *App) Handler() http.Handler {
	return a.secure(a.routes())
}

// Run does the app's periodic housekeeping until ctx ends: expired
// sessions, audit checkpoints and retention rules.
func (a *App) Run(ctx context.Context) error {
	// One instance runs the rules at a time: sqlstore's lock (a PostgreSQL
	// advisory lock) works across instances sharing the database.
	sched, err := retention.NewScheduler(a.lifecycle, retention.SchedulerConfig{Locker: a.retentionLock, Logger: a.cfg.Log})
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := a.sessions.Cleanup(ctx); err != nil {
					a.logError(ctx, err)
				}
				// Signed checkpoints on a timer, so that even a quiet log
				// can prove nothing was cut from its end.
				if _, err := a.audit.Checkpoint(ctx); err != nil {
					a.logError(ctx, err)
				}
			}
		}
	}()
	return sched.Start(ctx)
}

func (a *App) logError(ctx context.Context, err error) {
	a.cfg.Log.ErrorContext(ctx, "webapp", "err", err)
}

// onSessionEvent records sign-outs and ended sessions in the audit log, so
// they show in the user's security activity. (Sign-ins are audited by auth,
// with the IP.) The action has already happened: a failed write is logged.
func (a *App) onSessionEvent(ctx context.Context, e session.Event) {
	if e.Type == session.EventRevokedAll && e.Count == 0 {
		return // "end my other sessions" with none to end
	}
	switch e.Type {
	case session.EventClosing:
		// The tab-close beacon: not a sign-out yet (a reload sends it too).
		a.cfg.Log.InfoContext(ctx, string(e.Type), "user", e.UserID, "session", e.SessionID)
	case session.EventLogout, session.EventRevoked, session.EventRevokedAll:
		c := clientFrom(ctx)
		ev := audit.Entry{Actor: e.UserID, Action: string(e.Type), TargetType: "user", TargetID: e.UserID, IP: c.IP, UserAgent: c.UserAgent}
		ev.Details = map[string]string{"count": strconv.Itoa(max(e.Count, 1))}
		if e.SessionID != "" {
			ev.Details["session"] = e.SessionID
		}
		if _, err := a.audit.Append(ctx, ev); err != nil {
			a.logError(ctx, err)
		}
	}
}

func (a *App) onMFAEvent(ctx context.Context, e mfa.Event) {
	a.cfg.Log.InfoContext(ctx, string(e.Type), "user", e.UserID, "factor", e.Factor, "reason", e.Reason)
}

// internalError answers 500 without details: the error goes to the log.
func (a *App) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.logError(r.Context(), fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err))
	http.Error(w, "Something went wrong. Please try again.", http.StatusInternalServerError)
}

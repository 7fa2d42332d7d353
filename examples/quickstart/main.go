// Command quickstart walks through every Bulwark package that has landed so
// far and prints what it did. It needs no server: it keeps its data in an
// SQLite file in a temporary directory, removed at exit.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/export"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/session"
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
	if _, err := kr.Admin().Rotate(ctx); err != nil {
		return err
	}
	pt, err := kr.DecryptString(ctx, ct, ad)
	if err != nil {
		return err
	}
	_, errMoved := kr.DecryptString(ctx, ct, keyring.AD("users", "email", "43"))
	fmt.Fprintf(w, "keyring: %s sealed (%d chars), readable after rotation; copied to another row it fails: %v\n", pt, len(ct), errMoved != nil)

	// 4. Passwords: the NIST 800-63B default policy rejects a common
	// password, and argon2id hashes the accepted one in a PHC string.
	policy := password.Policy{ContextWords: []string{"quickstart", "ada"}}
	if err := policy.Check(ctx, "password123"); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			fmt.Fprintf(w, "password: \"password123\" rejected: %s\n", pe.Violations[0].Code)
		}
	}
	pw := "correct horse battery staple"
	if err := policy.Check(ctx, pw); err != nil {
		return err
	}
	hasher, err := password.New(password.Config{})
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := hasher.Verify(ctx, pw, hash); err != nil {
		return err
	}
	fmt.Fprintf(w, "password: accepted and hashed as %s...; verifies, needs rehash: %t\n", strings.Join(strings.SplitN(hash, "$", 5)[:4], "$"), hasher.NeedsRehash(hash))

	// 5. Second factor: a TOTP secret sealed by the keyring, and a code
	// that works once only.
	factors, err := mfa.New(st.MFA(), kr, mfa.Config{Issuer: "Quickstart"})
	if err != nil {
		return err
	}
	enr, err := factors.EnrollTOTP(ctx, "user-1", "ada@example.com")
	if err != nil {
		return err
	}
	key, err := mfa.ParseKeyURI(enr.URI)
	if err != nil {
		return err
	}
	code, err := mfatest.Code(key.Secret, key.Algorithm, key.Digits, key.Period, time.Now()) // what the phone shows
	if err != nil {
		return err
	}
	if err := factors.ConfirmTOTP(ctx, "user-1", code); err != nil {
		return err
	}
	fmt.Fprintf(w, "mfa: TOTP confirmed; the same code again: %v\n", factors.VerifyTOTP(ctx, "user-1", code))
	recovery, err := factors.GenerateRecoveryCodes(ctx, "user-1")
	if err != nil {
		return err
	}
	left, err := factors.UseRecoveryCode(ctx, "user-1", recovery[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "mfa: %d recovery codes issued, one used, %d left\n", len(recovery), left)

	// 6. Sessions: one live session per account (the single-session rule),
	// logged out after 10 idle minutes. A fake clock stands in for waiting.
	now := time.Now()
	sessions, err := session.New(st.Session(), session.Config{Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	laptop, err := sessions.Create(ctx, "user-1", session.Login{Factors: []string{"password", "totp"}, IP: "203.0.113.9"})
	if err != nil {
		return err
	}
	_, errPhone := sessions.Create(ctx, "user-1", session.Login{Factors: []string{"password"}})
	fmt.Fprintf(w, "session: laptop logged in; a second device is refused: %v\n", errPhone)
	now = now.Add(11 * time.Minute)
	_, errIdle := sessions.Validate(ctx, laptop.Token)
	fmt.Fprintf(w, "session: after 11 idle minutes the laptop's session is gone: %v\n", errIdle)

	// 7. Auth: the login flow composed from the packages above. Register
	// generates a username from the name; a wrong password and an unknown
	// user get the same answer; a right one starts a session.
	users := &userTable{byID: map[string]auth.User{}}
	var welcome auth.Notification
	authSessions, err := session.New(st.Session(), session.Config{})
	if err != nil {
		return err
	}
	authn, err := auth.New(auth.Deps{
		Store: st.Auth(), Users: users, Hasher: hasher, Policy: policy,
		Sessions: bulwark.SessionIssuer(authSessions),
		MFA:      bulwark.MFAVerifier(factors),
		Notifier: auth.NotifierFunc(func(_ context.Context, n auth.Notification) error { welcome = n; return nil }),
	}, auth.Config{})
	if err != nil {
		return err
	}
	client := auth.Client{IP: res.String(r), UserAgent: "quickstart", Binding: "pre-login-cookie-hash"}
	if err := authn.Register(ctx, auth.Registration{FirstName: "Łukasz", LastName: "Żółć", Email: "lukasz@example.com", Password: pw}, client); err != nil {
		return err
	}
	_, errWrong := authn.Login(ctx, welcome.Username, "wrong password", client)
	_, errUnknown := authn.Login(ctx, "NoSuchUser99", "wrong password", client)
	login, err := authn.Login(ctx, welcome.Username, pw, client)
	if err != nil {
		return err
	}
	if login.Next != auth.StepDone {
		return fmt.Errorf("quickstart: login stopped at step %d", login.Next)
	}
	fmt.Fprintf(w, "auth: Łukasz Żółć registered as %s; wrong password: %q, unknown user: %q; right password: session started\n",
		welcome.Username, errWrong, errUnknown)

	// 8. Audit: a change log entry with the client's IP and a field diff
	// (the password is redacted before anything is hashed), chained and
	// verified. The checkpoint key belongs in a KMS, not the database.
	ckKey := make([]byte, 32)
	if _, err := rand.Read(ckKey); err != nil {
		return err
	}
	ck, err := audit.NewHMACKey("quickstart", ckKey)
	if err != nil {
		return err
	}
	alog, err := audit.New(st.Audit(), audit.Config{Signer: ck})
	if err != nil {
		return err
	}
	changes, err := audit.Diff(
		map[string]any{"email": "ada@example.com", "password": "old secret"},
		map[string]any{"email": "ada@lovelace.example", "password": "new secret"})
	if err != nil {
		return err
	}
	rec, err := alog.Append(ctx, audit.Entry{Tenant: "acme", Actor: "user-1", Action: "record.updated",
		TargetType: "client", TargetID: "42", IP: res.String(r), Changes: changes})
	if err != nil {
		return err
	}
	reps, err := alog.Verify(ctx, audit.VerifyOptions{Stream: "acme"})
	if err != nil {
		return err
	}
	for _, c := range rec.Changes {
		fmt.Fprintf(w, "audit: %s %s changed from %q to %q (ip %s)\n", rec.Action, c.Field, c.Old, c.New, rec.IP)
	}
	fmt.Fprintf(w, "audit: chain of %d record(s) verified\n", reps[0].Records)

	// 9. Export: a tenant backup, encrypted to an age public key, then
	// verified against its manifest.
	ex, err := export.New(export.Config{})
	if err != nil {
		return err
	}
	if err := ex.Register("contacts", contacts{{"1", "Ada Lovelace", "=HYPERLINK(\"evil\")"}, {"2", "Alan Turing", "mathematician"}}); err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	archive := filepath.Join(dir, "acme.tar.age")
	man, err := ex.ExportFile(ctx, archive, export.Request{Scope: export.Scope{Tenant: "acme"}, Recipients: []age.Recipient{id.Recipient()}})
	if err != nil {
		return err
	}
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if _, err := ex.Verify(ctx, f, export.ReadOptions{Identities: []age.Identity{id}}); err != nil {
		return err
	}
	fmt.Fprintf(w, "export: %d contacts in an age-encrypted archive; decrypted and every hash verified\n", man.Modules[0].Rows)

	// 10. Retention: when will a trial account that never subscribed be
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

// contacts is the host's "contacts" module: rows it can stream to an export.
type contacts [][]string

func (contacts) Columns() []string { return []string{"id", "name", "note"} }

func (c contacts) Records(context.Context, export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range c {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// userTable is the host's users table, in memory for the quickstart.
type userTable struct {
	mu   sync.Mutex
	byID map[string]auth.User
}

func (u *userTable) FindUser(_ context.Context, by auth.Lookup, v string) (auth.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.byID {
		if (by == auth.ByID && x.ID == v) || (by == auth.ByEmail && strings.EqualFold(x.Email, v)) ||
			(by == auth.ByLogin && strings.EqualFold(x.Username, v)) {
			return x, nil
		}
	}
	return auth.User{}, auth.ErrNotFound
}

func (u *userTable) CreateUser(_ context.Context, x auth.User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, o := range u.byID {
		if strings.EqualFold(o.Email, x.Email) {
			return auth.ErrTaken
		}
	}
	u.byID[x.ID] = x
	return nil
}

func (u *userTable) SetPasswordHash(_ context.Context, id, hash string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.byID[id]
	if !ok {
		return auth.ErrNotFound
	}
	x.PasswordHash = hash
	u.byID[id] = x
	return nil
}

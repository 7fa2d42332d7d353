package bulwark

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
)

// Deps are the stores and the key-encryption key the host passes to [New].
// Every field but Mailer is required; store/memstore, store/sqlstore and
// store/redisstore implement each interface (sqlstore's Users table is a
// ready [auth.CredentialStore]).
type Deps struct {
	Users    auth.CredentialStore // the users table (required)
	Auth     auth.Store           // lockout counters, reset tokens, pending MFA (required)
	Sessions session.Store        // required
	MFA      mfa.Store            // required
	Audit    audit.Store          // required
	Keys     keyring.Store        // data keys that seal TOTP secrets (required)
	KEK      keyring.KEK          // wraps the data keys; keep it outside the database (required)
	// Mailer delivers reset links, emailed sign-in codes and account
	// notifications. Optional: without one, password reset and emailed
	// codes are unavailable (their handlers answer 501 "unavailable") and
	// no notifications are sent.
	Mailer Mailer
}

// Mailer sends the three kinds of mail Bulwark produces. Implementations
// should enqueue and return quickly, so that a reset request for a known
// address takes as long as one for an unknown address; errors are
// reported, never shown to the client.
type Mailer interface {
	// SendResetLink mails a password-reset link to l.Email. l.Token is a
	// secret: put it in the link (preferably the URL fragment), never in
	// a log.
	SendResetLink(ctx context.Context, l auth.ResetLink) error
	// SendCode mails an emailed one-time code to m.To. m.Code is a secret.
	SendCode(ctx context.Context, m mfa.Message) error
	// Notify tells the user at address to about activity on their
	// account (a new sign-in, a password change, a lockout, ...). n holds
	// no secret.
	Notify(ctx context.Context, to string, n auth.Notification) error
}

// Config configures [New]. The zero value means the secure defaults below,
// each package's own documented defaults included:
//
//   - MFA is available: every user can enrol TOTP, recovery codes and
//     emailed codes, and once enrolled, sign-in asks for the second factor
//     (ASVS 5.0 6.3.3). Set Auth.RequireMFA to make it mandatory.
//   - One live session per user, and a second sign-in is refused while the
//     first lives (session's default, Config.ReplaceOld off: a stolen
//     password cannot silently take over, ASVS 5.0 7.1.2), with a
//     10-minute idle timeout and a
//     12-hour absolute one (ASVS 5.0 7.3.1, 7.3.2).
//   - Remember-me is off (ASVS 5.0 7.3: closing the browser signs out).
//   - Session cookies are Secure, HttpOnly, SameSite=Lax and "__Host-"
//     prefixed (ASVS 5.0 3.3.1, 3.3.3).
//   - Passwords: at least 8 characters, no composition rules, common
//     passwords refused (NIST SP 800-63B 3.1.1.2), hashed with argon2id
//     (RFC 9106).
//   - auth's events are audited fail-closed: a sign-in, sign-up,
//     reauthentication, password change or reset, or factor change
//     (auth.mfa.changed) whose record cannot be written is refused or
//     answers 500 (ASVS 5.0 16.5.3). Events of session, mfa, keyring and
//     password are written after their change was made, so a failed write
//     goes to OnError only: a factor removed while the audit store is down
//     stays removed, although its request answers 500.
//   - No proxy is trusted for the client address: X-Forwarded-For is
//     ignored unless TrustedProxies says where it comes from.
type Config struct {
	// Auth overrides auth's settings (lockout, pending-MFA lifetime,
	// RequireMFA, ...). Its collaborator fields (Credentials, Hasher,
	// Policy, Sessions, MFA, Auditor, Notifier, ResetMailer) are set by New
	// from Deps; leave them empty. Auth.Hook is kept, and auth calls it
	// before the event is audited; [Config.Hook] hears auth's events only
	// once they were written.
	Auth auth.Config
	// Session overrides session's settings. ClientIP is set from
	// TrustedProxies.
	Session session.Config
	// MFA overrides mfa's settings. Sender is set from Deps.Mailer when
	// empty.
	MFA mfa.Config
	// Password configures the password hasher (argon2id parameters,
	// pepper).
	Password password.Config
	// Policy is the password policy for sign-up, reset and change.
	Policy password.Policy
	// Keyring overrides keyring's settings.
	Keyring keyring.Config
	// Audit overrides audit's settings (a checkpoint Signer is
	// recommended in production).
	Audit audit.Config
	// AuditStream is the audit stream (tenant) events go to. Default "",
	// the global stream.
	AuditStream string

	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (clientip). Default none: the client address is the TCP peer.
	TrustedProxies []netip.Prefix
	// TrustedOrigins are other origins (scheme://host[:port]) allowed to
	// make state-changing requests to [Bulwark.Handler], for a front end
	// served from another origin. Default none: same origin only.
	TrustedOrigins []string
	// PathPrefix is where [Bulwark.Handler] serves its endpoints. Default
	// "/auth".
	PathPrefix string

	// Hook receives every event of every package, in one shape, after it
	// was written to the audit log. Optional; it is called synchronously,
	// so a slow hook slows the call that reported the event.
	Hook func(context.Context, Event)
	// OnError receives failures the client is not told about: a 500's
	// cause, a mail that could not be sent, an audit write from a hook that
	// failed. Optional. Errors never carry secrets.
	OnError func(context.Context, error)
	// Now is the clock of every package whose own Config leaves Now nil.
	// Default time.Now.
	Now func() time.Time
}

// Bulwark is the wired library: the managers of every package, sharing the
// stores of [Deps], with their events routed to the audit log and to
// [Config.Hook]. Hosts that want more than [Bulwark.Handler] use the
// managers directly. It is safe for concurrent use.
type Bulwark struct {
	Auth     *auth.Authenticator // the sign-in flows, over Deps.Users and Deps.Auth
	Sessions *session.Manager    // sessions and their cookies, over Deps.Sessions
	MFA      *mfa.Manager        // second factors, over Deps.MFA, TOTP secrets sealed by Keyring
	Audit    *audit.Log          // the audit log every event goes to, over Deps.Audit
	Keyring  *keyring.Keyring    // data keys wrapped by Deps.KEK, over Deps.Keys
	Hasher   *password.Hasher    // argon2id, from Config.Password
	Policy   password.Policy     // Config.Policy, with its hook routed to the audit log
	ClientIP clientip.Resolver   // the client address, trusting Config.TrustedProxies

	deps    Deps
	cfg     Config
	origins *http.CrossOriginProtection
}

// ErrMissingDep is returned by [New] when a required field of [Deps] is
// nil; the error names the field.
var ErrMissingDep = errors.New("bulwark: missing dependency")

// New wires password, keyring, mfa, session, audit and auth over the stores
// in d. It returns an error, never panics, for a missing dependency or an
// invalid setting. A zero cfg means the defaults documented on [Config].
func New(d Deps, cfg Config) (*Bulwark, error) {
	for _, m := range []struct {
		name string
		nil  bool
	}{
		{"Users", d.Users == nil}, {"Auth", d.Auth == nil}, {"Sessions", d.Sessions == nil},
		{"MFA", d.MFA == nil}, {"Audit", d.Audit == nil}, {"Keys", d.Keys == nil}, {"KEK", d.KEK == nil},
	} {
		if m.nil {
			return nil, fmt.Errorf("%w: Deps.%s", ErrMissingDep, m.name)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PathPrefix == "" {
		cfg.PathPrefix = "/auth"
	}
	if cfg.PathPrefix[0] != '/' || cfg.PathPrefix[len(cfg.PathPrefix)-1] == '/' {
		return nil, fmt.Errorf("bulwark: PathPrefix %q must start with / and not end with one", cfg.PathPrefix)
	}
	b := &Bulwark{deps: d, cfg: cfg, ClientIP: clientip.New(cfg.TrustedProxies...), Policy: cfg.Policy}
	b.origins = http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := b.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("bulwark: trusted origin: %w", err)
		}
	}
	steps := []func() error{b.wirePassword, b.wireKeyring, b.wireAudit, b.wireMFA, b.wireSession, b.wireAuth}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Bulwark) wirePassword() error {
	pc := b.cfg.Password
	pc.Hook = chain(b.passwordHook, pc.Hook)
	h, err := password.New(pc)
	if err != nil {
		return fmt.Errorf("bulwark: password: %w", err)
	}
	b.Hasher = h
	b.Policy.Hook = chain(b.passwordHook, b.Policy.Hook)
	return nil
}

func (b *Bulwark) wireKeyring() error {
	kc := b.cfg.Keyring
	if kc.Now == nil {
		kc.Now = b.cfg.Now
	}
	kc.Hook = chain(b.keyringHook, kc.Hook)
	k, err := keyring.New(b.deps.Keys, b.deps.KEK, kc)
	if err != nil {
		return fmt.Errorf("bulwark: keyring: %w", err)
	}
	b.Keyring = k
	return nil
}

func (b *Bulwark) wireAudit() error {
	ac := b.cfg.Audit
	if ac.Now == nil {
		ac.Now = b.cfg.Now
	}
	if ac.OnError == nil {
		ac.OnError = b.cfg.OnError
	}
	l, err := audit.New(b.deps.Audit, ac)
	if err != nil {
		return fmt.Errorf("bulwark: audit: %w", err)
	}
	b.Audit = l
	return nil
}

func (b *Bulwark) wireMFA() error {
	mc := b.cfg.MFA
	if mc.Now == nil {
		mc.Now = b.cfg.Now
	}
	if mc.Sender == nil && b.deps.Mailer != nil {
		mc.Sender = codeSender{b.deps.Mailer}
	}
	mc.Hook = chain(b.mfaHook, mc.Hook)
	m, err := mfa.New(b.deps.MFA, b.Keyring, mc)
	if err != nil {
		return fmt.Errorf("bulwark: mfa: %w", err)
	}
	b.MFA = m
	return nil
}

func (b *Bulwark) wireSession() error {
	sc := b.cfg.Session
	if sc.Now == nil {
		sc.Now = b.cfg.Now
	}
	sc.ClientIP = b.ClientIP
	if sc.OnError == nil {
		sc.OnError = b.cfg.OnError
	}
	sc.Hook = chain(b.sessionHook, sc.Hook)
	m, err := session.New(b.deps.Sessions, sc)
	if err != nil {
		return fmt.Errorf("bulwark: session: %w", err)
	}
	b.Sessions = m
	return nil
}

func (b *Bulwark) wireAuth() error {
	ac := b.cfg.Auth
	if ac.Now == nil {
		ac.Now = b.cfg.Now
	}
	d := auth.Deps{
		Store:    b.deps.Auth,
		Users:    b.deps.Users,
		Hasher:   b.Hasher,
		Policy:   b.Policy,
		Sessions: SessionIssuer(b.Sessions),
		MFA:      MFAVerifier(b.MFA),
		// auth calls its own Hook before the audit write, so a host hook
		// there would hear of steps that were then refused for want of an
		// audit record; Config.Hook is called from the auditor instead,
		// after the write succeeded.
		Auditor: hookedAuditor{Auditor(b.Audit, b.cfg.AuditStream), b},
	}
	if b.deps.Mailer != nil {
		d.Notifier = notifier{b}
		d.Mailer = resetMailer{b.deps.Mailer}
	}
	a, err := auth.New(d, ac)
	if err != nil {
		return fmt.Errorf("bulwark: auth: %w", err)
	}
	b.Auth = a
	return nil
}

// chain calls first and then second (if set).
func chain[E any](first, second func(context.Context, E)) func(context.Context, E) {
	if second == nil {
		return first
	}
	return func(ctx context.Context, e E) { first(ctx, e); second(ctx, e) }
}

func (b *Bulwark) fail(ctx context.Context, err error) {
	if b.cfg.OnError != nil {
		b.cfg.OnError(ctx, err)
	}
}

// Middleware loads the request's session for the host's own routes (see
// [session.Manager.Middleware]); read it with [session.FromContext].
// Requests without a live session get 401.
func (b *Bulwark) Middleware(next http.Handler) http.Handler { return b.Sessions.Middleware(next) }

// Mailer adapters.

type codeSender struct{ m Mailer }

func (s codeSender) Send(ctx context.Context, msg mfa.Message) error { return s.m.SendCode(ctx, msg) }

type resetMailer struct{ m Mailer }

func (r resetMailer) SendResetLink(ctx context.Context, l auth.ResetLink) error {
	return r.m.SendResetLink(ctx, l)
}

// notifier looks up the user's address and hands the notification to the
// Mailer.
type notifier struct{ b *Bulwark }

func (n notifier) Notify(ctx context.Context, note auth.Notification) error {
	u, err := n.b.deps.Users.FindUser(ctx, auth.ByID, note.UserID)
	if err != nil {
		return fmt.Errorf("bulwark: notify: %w", err)
	}
	if u.Email == "" {
		return nil
	}
	return n.b.deps.Mailer.Notify(ctx, u.Email, note)
}

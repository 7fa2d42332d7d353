package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/internal/trunc"
)

// Errors returned by [Manager] methods and by stores.
var (
	// ErrNotFound is returned by [Manager.Validate],
	// [Manager.Destroy], [Manager.Rotate] and [Manager.Revoke] when the
	// token is malformed, unknown, expired or revoked, and by stores for
	// missing or expired records. Callers treat it as "not logged in".
	ErrNotFound = errors.New("session: not found")
	// ErrLimit is returned by [Manager.Create] and [Manager.Login] when the
	// user already holds [Config.MaxSessions] live sessions and
	// [Config.ReplaceOld] is off (the default), and by stores' Create.
	ErrLimit = errors.New("session: concurrent session limit reached")
	// ErrReused is returned by stores' RotateRemember when a remember-me
	// token that was already used is presented again; the token's family
	// and the sessions it started have been revoked. [Manager.Middleware]
	// then reports [EventRememberReuse] and clears the cookie.
	ErrReused = errors.New("session: remember-me token reused")
	// ErrStepUp is returned by [Manager.RequireRecent] when the session's
	// last authentication is too old or lacks a required factor.
	ErrStepUp = errors.New("session: recent authentication required")
)

// errRememberDisabled is returned by [Manager.Create] and [Manager.Login]
// when remember-me is asked for but [Config.RememberMe] is off: a mistake
// in the host's wiring, not a condition to handle.
var errRememberDisabled = errors.New("session: remember-me is disabled")

// Unlimited, as [Config.MaxSessions], lets a user hold any number of
// sessions.
const Unlimited = -1

// FactorRemember is the factor recorded on a session that was resumed from
// a remember-me token rather than started by an authentication.
const FactorRemember = "remember"

// Defaults applied by [New] to zero [Config] fields; each is documented,
// with its reason, on its Config field.
const (
	defaultIdleTimeout      = 10 * time.Minute
	defaultAbsoluteTimeout  = 12 * time.Hour
	defaultTouchInterval    = time.Minute
	defaultMaxSessions      = 1
	defaultRememberLifetime = 30 * 24 * time.Hour
	defaultCloseGrace       = 10 * time.Second
	defaultCookieName       = "session"
)

// Config configures a [Manager]. The zero value means every documented
// default; [New] applies them, and [Manager.Config] reports the result.
// Negative durations are refused by New.
type Config struct {
	// IdleTimeout ends a session this long after its last recorded
	// activity. Default 10 minutes, the products' rule; NIST SP 800-63B
	// 4.2.3 (AAL2) allows up to 30 minutes (ASVS 7.3.1).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created,
	// whatever the activity. Default 12 hours, NIST SP 800-63B 4.2.3's
	// limit for AAL2 (ASVS 7.3.2).
	AbsoluteTimeout time.Duration
	// TouchInterval is the most often activity is written to the store.
	// A session may therefore expire up to TouchInterval before
	// IdleTimeout has passed since the user's last request, never after.
	// Default 1 minute, and never more than IdleTimeout/10, so that the
	// slack stays small next to the timeout while a busy user costs at
	// most one write a minute.
	TouchInterval time.Duration
	// MaxSessions is how many live sessions a user may hold at once.
	// Default 1, the single-session rule (ASVS 7.1.2); [Unlimited] lifts
	// the limit.
	MaxSessions int
	// ReplaceOld says what happens at MaxSessions: false (the default)
	// refuses the new login with [ErrLimit] while the limit is reached
	// ("prevent simultaneous logins from several places"); true ends the
	// user's oldest sessions, with their remember-me families, to make
	// room for the new one.
	ReplaceOld bool

	// CloseGrace is how long a session marked by [Manager.CloseHandler]
	// (the tab-close beacon) lives on: a request from it within the grace
	// clears the mark, otherwise the session ends. It never extends a
	// session past its idle or absolute expiry. Default 10 seconds:
	// reload, Back and Forward also fire the beacon, and the next page's
	// first request follows it within a second on any connection worth
	// the name; 10 seconds leave room for a slow mobile network or a
	// loaded server, while a tab really closed ends its session 10
	// seconds later instead of at the idle timeout.
	CloseGrace time.Duration

	// RememberMe enables "remember me": a separate long-lived token that
	// starts a new session when the session cookie is gone. Off by default.
	RememberMe bool
	// RememberLifetime is how long a remember-me family lives from its
	// login. Default 30 days: NIST SP 800-63B 4.1.3 has AAL1
	// re-authenticate at least every 30 days.
	RememberLifetime time.Duration

	// CookieName is the base name of the session cookie. Default
	// "session". The "__Host-" prefix is added unless InsecureDevCookie is
	// set or the name has it already (RFC 6265bis 4.1.3.2), and the
	// remember-me cookie is named
	// CookieName+"-remember". [Manager.Config] reports the full names.
	CookieName string
	// InsecureDevCookie drops the Secure attribute and the "__Host-" prefix
	// so that cookies work on plain http://localhost during development.
	// Never set it in production: the session cookie would travel in clear.
	InsecureDevCookie bool
	// SameSite for both cookies. Default http.SameSiteLaxMode, which keeps
	// top-level navigation from other sites working while refusing the
	// cookie on cross-site subrequests and POSTs.
	SameSite http.SameSite

	// ClientIP picks the address recorded on a session by [Manager.Login].
	// The zero Resolver trusts no proxy.
	ClientIP clientip.Resolver
	// Unauthenticated handles requests without a valid session in
	// [Manager.Middleware]. Default: 401 Unauthorized with no body.
	Unauthenticated http.Handler
	// OnError receives store errors met while serving a request; the
	// request is then treated as unauthenticated. Optional.
	OnError func(context.Context, error)
	// Hook, if set, receives every reportable [Event]. Events never carry
	// tokens or token hashes. It is called synchronously, on the
	// goroutine of the call that caused the event, so a slow hook slows
	// that call (a login, a request through the middleware). Optional.
	Hook func(context.Context, Event)

	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of tokens. Default crypto/rand.Reader.
	Rand io.Reader
}

// Session is one logged-in session as stored. Fields are read-only for
// callers.
type Session struct {
	ID             string    // UUIDv7; safe to show the user and to pass to Revoke
	TokenHash      [32]byte  `json:"-"` // SHA-256 of the token; the token itself is never stored
	UserID         string    //
	CreatedAt      time.Time // when the session began
	LastSeen       time.Time // last recorded activity, at most TouchInterval old
	ExpiresAt      time.Time // min(LastSeen+IdleTimeout, AbsoluteExpiry)
	AbsoluteExpiry time.Time // CreatedAt+AbsoluteTimeout
	AuthTime       time.Time // when the user last authenticated (step-up)
	Factors        []string  // factors of that authentication, e.g. "password", "totp"
	IP             string    // client address at login, from Config.ClientIP
	UserAgent      string    // User-Agent at login
	RememberFamily string    // remember-me family id; "" when the session has no remember-me token
	// Closing is when the tab-close beacon marked the session
	// ([Manager.CloseHandler]); zero when it is not marked. The session
	// ends at Closing plus [Config.CloseGrace] unless a request clears it.
	Closing time.Time
}

// Login describes a successful authentication, for [Manager.Login] (over
// HTTP) and [Manager.Create].
type Login struct {
	Factors   []string // factors just verified, e.g. "password", "totp"
	Remember  bool     // issue a remember-me token; needs Config.RememberMe
	IP        string   // client address; Manager.Login fills it from Config.ClientIP
	UserAgent string   // User-Agent; Manager.Login fills it from the request
}

// Issued is what [Manager.Login], [Manager.Create], [Manager.Rotate] and
// [Manager.StepUp] hand out. Tokens go to the client (in cookies) and nowhere else.
type Issued struct {
	Token         string // session token, 43 characters of base64url
	RememberToken string // new remember-me token, or ""
	// RememberExpires is when the remember-me family ends, with RememberToken.
	RememberExpires time.Time
	Session         Session  // the stored session
	Evicted         []string // ids of sessions ended by Config.ReplaceOld
}

// EventType names a reportable event.
type EventType string

// Events reported to [Config.Hook].
const (
	EventCreated       EventType = "session.created"        // a login started a session
	EventLimitDenied   EventType = "session.limit_denied"   // the single-session rule refused a login
	EventEvicted       EventType = "session.evicted"        // Config.ReplaceOld ended a session
	EventRotated       EventType = "session.rotated"        // a privilege change issued a new token
	EventResumed       EventType = "session.resumed"        // remember-me started a session
	EventRememberReuse EventType = "session.remember_reuse" // an old remember-me token came back; family revoked
	EventLogout        EventType = "session.logout"         // the user logged out
	EventRevoked       EventType = "session.revoked"        // one session revoked by id
	EventRevokedAll    EventType = "session.revoked_all"    // all (or all other) sessions of a user revoked
	EventClosing       EventType = "session.closing"        // the tab-close beacon marked a session; it ends after the grace unless a request comes
)

// Event is what [Config.Hook] receives. It never carries a token or token
// hash.
type Event struct {
	Type      EventType
	Time      time.Time // from Config.Now
	UserID    string
	SessionID string // the session concerned, when there is one
	Count     int    // sessions ended, for EventRevokedAll
}

// Manager issues, validates and ends sessions. It is safe for concurrent
// use; several Managers (in several processes) may share one [Store].
type Manager struct {
	store    Store
	cfg      Config // effective settings, for Config
	idle     time.Duration
	absolute time.Duration
	touch    time.Duration
	grace    time.Duration
	limit    Limit
	remember bool
	remLife  time.Duration
	cookie   string
	remName  string
	secure   bool
	sameSite http.SameSite
	ip       clientip.Resolver
	unauth   http.Handler
	onError  func(context.Context, error)
	hook     func(context.Context, Event)
	now      func() time.Time
	rand     io.Reader
}

// New returns a Manager over store. A zero [Config] means every
// documented default; zero fields take their defaults one by one. It
// returns an error, and no Manager, if store is nil or a duration in cfg
// is negative.
func New(store Store, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("session: New with a nil Store")
	}
	if cfg.IdleTimeout < 0 || cfg.AbsoluteTimeout < 0 || cfg.TouchInterval < 0 || cfg.RememberLifetime < 0 || cfg.CloseGrace < 0 {
		return nil, errors.New("session: New with a negative duration")
	}
	cfg = withDefaults(cfg)
	m := &Manager{
		store:    store,
		cfg:      cfg,
		idle:     cfg.IdleTimeout,
		absolute: cfg.AbsoluteTimeout,
		touch:    cfg.TouchInterval,
		grace:    cfg.CloseGrace,
		limit:    Limit{Max: max(cfg.MaxSessions, 0), ReplaceOld: cfg.ReplaceOld},
		remember: cfg.RememberMe,
		remLife:  cfg.RememberLifetime,
		cookie:   cfg.CookieName,
		remName:  cfg.CookieName + "-remember",
		secure:   !cfg.InsecureDevCookie,
		sameSite: cfg.SameSite,
		ip:       cfg.ClientIP,
		unauth:   cfg.Unauthenticated,
		onError:  cfg.OnError,
		hook:     cfg.Hook,
		now:      cfg.Now,
		rand:     cfg.Rand,
	}
	return m, nil
}

const hostPrefix = "__Host-"

// withDefaults is the one place the defaults documented on [Config] are
// applied. The returned CookieName is the full name, with its prefix.
func withDefaults(cfg Config) Config {
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, defaultIdleTimeout)
	cfg.AbsoluteTimeout = orDefault(cfg.AbsoluteTimeout, defaultAbsoluteTimeout)
	// Bounded by a fraction of the idle timeout, so that the slack in
	// idle expiry stays small next to the timeout itself.
	cfg.TouchInterval = min(orDefault(cfg.TouchInterval, defaultTouchInterval), cfg.IdleTimeout/10)
	cfg.CloseGrace = orDefault(cfg.CloseGrace, defaultCloseGrace)
	cfg.RememberLifetime = orDefault(cfg.RememberLifetime, defaultRememberLifetime)
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = defaultMaxSessions
	} else if cfg.MaxSessions < 0 {
		cfg.MaxSessions = Unlimited
	}
	if cfg.CookieName == "" {
		cfg.CookieName = defaultCookieName
	}
	if !cfg.InsecureDevCookie && !strings.HasPrefix(cfg.CookieName, hostPrefix) {
		// RFC 6265bis 4.1.3.2: a __Host- cookie must be Secure, have Path=/
		// and no Domain, so no subdomain or plain-http page can set it.
		// A name that has the prefix already (m.Config() passed to New
		// again) keeps it once.
		cfg.CookieName = hostPrefix + cfg.CookieName
	}
	if cfg.SameSite == 0 {
		cfg.SameSite = http.SameSiteLaxMode
	}
	if cfg.Unauthenticated == nil {
		cfg.Unauthenticated = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		})
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return cfg
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Config returns the effective settings: the Config given to [New] with
// every default applied, TouchInterval capped, a negative MaxSessions as
// [Unlimited], and CookieName the session cookie's full name (with its
// "__Host-" prefix unless InsecureDevCookie is set); the remember-me
// cookie's name is that plus "-remember". A page can show the idle timeout
// from it, and a test can name the cookie.
func (m *Manager) Config() Config { return m.cfg }

// tokenEncoding decodes tokens strictly, so that each token has exactly
// one spelling.
var tokenEncoding = base64.RawURLEncoding.Strict()

// tokenLen is the length of a token: 32 bytes (256 bits) in unpadded
// base64url.
const tokenLen = 43

// newToken draws a token. If the store is a [TokenPlacer], it draws until
// the hash starts with place (expected 256 draws; the bound fails only with
// probability e^-256 at worst).
func (m *Manager) newToken(place byte) (string, [32]byte, error) {
	var b [32]byte
	_, placed := m.store.(TokenPlacer)
	for range 1 << 16 {
		if _, err := io.ReadFull(m.rand, b[:]); err != nil {
			return "", [32]byte{}, fmt.Errorf("session: read random: %w", err)
		}
		h := sha256.Sum256(b[:])
		if !placed || h[0] == place {
			return base64.RawURLEncoding.EncodeToString(b[:]), h, nil
		}
	}
	return "", [32]byte{}, errors.New("session: no token for the store's placement")
}

// tokenPlace is the first byte the hashes of userID's tokens must have
// (see [TokenPlacer]); 0 and unused when the store does not place tokens.
func (m *Manager) tokenPlace(userID string) byte {
	if p, ok := m.store.(TokenPlacer); ok {
		return p.TokenByte(userID)
	}
	return 0
}

// newID returns a UUIDv7 for a session or remember-me family.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("session: new id: %w", err)
	}
	return id.String(), nil
}

// hashToken decodes a token and returns the SHA-256 of its bytes. It
// reports false for anything that is not a well-formed token. It does not
// allocate.
func hashToken(token string) ([32]byte, bool) {
	if len(token) != tokenLen {
		return [32]byte{}, false
	}
	var src [tokenLen]byte
	copy(src[:], token)
	var raw [33]byte
	n, err := tokenEncoding.Decode(raw[:], src[:])
	if err != nil || n != 32 {
		return [32]byte{}, false
	}
	return sha256.Sum256(raw[:32]), true
}

func (m *Manager) event(ctx context.Context, e Event) {
	if m.hook != nil {
		m.hook(ctx, e)
	}
}

// Create starts a session for userID after a successful authentication,
// with a fresh token (ASVS 7.2.4), enforcing the single-session rule
// atomically in the store. At the limit it returns [ErrLimit], unless
// [Config.ReplaceOld] is set. With l.Remember it also issues a remember-me
// token, or returns an error if [Config.RememberMe] is off. Over HTTP,
// use [Manager.Login], which also sets the cookies.
func (m *Manager) Create(ctx context.Context, userID string, l Login) (Issued, error) {
	return m.login(ctx, userID, l, [32]byte{})
}

// login is Create, replacing the user's session with hash replaces if any.
func (m *Manager) login(ctx context.Context, userID string, l Login, replaces [32]byte) (Issued, error) {
	iss, err := m.create(ctx, userID, l, replaces, "", time.Time{}, time.Time{})
	if err != nil {
		return Issued{}, err
	}
	m.event(ctx, Event{Type: EventCreated, Time: iss.Session.CreatedAt, UserID: userID, SessionID: iss.Session.ID})
	return iss, nil
}

// create starts a session; replaces is the hash of a session to delete in
// the same step, family a remember-me family to carry over, authTime
// the authentication time when it is not now, and absCap, when not zero,
// a time the absolute expiry must not pass (a session that did not start
// with an authentication never outlives the one it came from).
func (m *Manager) create(ctx context.Context, userID string, l Login, replaces [32]byte, family string, authTime, absCap time.Time) (Issued, error) {
	if l.Remember && !m.remember {
		return Issued{}, errRememberDisabled
	}
	if userID == "" {
		return Issued{}, errors.New("session: empty user id")
	}
	token, hash, err := m.newToken(m.tokenPlace(userID))
	if err != nil {
		return Issued{}, err
	}
	id, err := newID()
	if err != nil {
		return Issued{}, err
	}
	// Stores keep microseconds; so does the returned Session.
	now := m.now().UTC().Truncate(time.Microsecond)
	if authTime.IsZero() {
		authTime = now
	}
	s := Session{
		ID:             id,
		TokenHash:      hash,
		UserID:         userID,
		CreatedAt:      now,
		LastSeen:       now,
		AbsoluteExpiry: now.Add(m.absolute),
		AuthTime:       authTime,
		Factors:        slices.Clone(l.Factors),
		IP:             l.IP,
		UserAgent:      trunc.UTF8(l.UserAgent, maxUserAgent),
		RememberFamily: family,
	}
	if !absCap.IsZero() {
		s.AbsoluteExpiry = earliest(s.AbsoluteExpiry, absCap.UTC().Truncate(time.Microsecond))
	}
	s.ExpiresAt = earliest(now.Add(m.idle), s.AbsoluteExpiry)
	iss := Issued{Token: token}
	var rem Remember
	if l.Remember {
		var rh [32]byte
		iss.RememberToken, rh, err = m.newToken(hash[0])
		if err != nil {
			return Issued{}, err
		}
		if s.RememberFamily, err = newID(); err != nil {
			return Issued{}, err
		}
		rem = Remember{Hash: rh, Family: s.RememberFamily, UserID: userID, AuthTime: authTime, CreatedAt: now, ExpiresAt: now.Add(m.remLife)}
		iss.RememberExpires = rem.ExpiresAt
	}
	evicted, err := m.store.Create(ctx, &s, m.limit, replaces)
	if errors.Is(err, ErrLimit) {
		m.event(ctx, Event{Type: EventLimitDenied, Time: now, UserID: userID})
		return Issued{}, ErrLimit
	}
	if errors.Is(err, ErrNotFound) {
		return Issued{}, ErrNotFound // the session to replace is gone
	}
	if err != nil {
		return Issued{}, fmt.Errorf("session: create: %w", err)
	}
	if l.Remember {
		if err := m.store.CreateRemember(ctx, rem); err != nil {
			// Fail closed and leave no half-made login behind.
			_, _ = m.store.Delete(ctx, hash)
			return Issued{}, fmt.Errorf("session: create remember-me: %w", err)
		}
	}
	for _, id := range evicted {
		m.event(ctx, Event{Type: EventEvicted, Time: now, UserID: userID, SessionID: id})
	}
	iss.Session, iss.Evicted = s, evicted
	return iss, nil
}

// Validate returns the live session for token and records activity at most
// once per [Config.TouchInterval]. A malformed, unknown, expired or revoked
// token gives [ErrNotFound]; any other error is a store failure, and the
// caller must treat the request as unauthenticated.
func (m *Manager) Validate(ctx context.Context, token string) (Session, error) {
	hash, ok := hashToken(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	now := m.now()
	s, err := m.load(ctx, hash, now)
	if err != nil {
		return Session{}, err
	}
	if !s.Closing.IsZero() {
		// A request within the grace: the page was reloaded or another
		// page of the site opened, not the last tab closed.
		if err := m.unmark(ctx, &s, now); err != nil {
			return Session{}, err
		}
	}
	if now.Sub(s.LastSeen) >= m.touch {
		exp := earliest(now.Add(m.idle), s.AbsoluteExpiry)
		if err := m.store.Touch(ctx, hash, now, exp); err != nil {
			return Session{}, storeErr(err)
		}
		s.LastSeen, s.ExpiresAt = now, exp
	}
	return s, nil
}

// load reads a session and judges it with this Manager's own timeouts too,
// so a Manager configured stricter than the one that wrote the record is
// obeyed.
func (m *Manager) load(ctx context.Context, hash [32]byte, now time.Time) (Session, error) {
	s, err := m.store.Get(ctx, hash, now)
	if err != nil {
		return Session{}, storeErr(err)
	}
	if !now.Before(s.ExpiresAt) || !now.Before(s.AbsoluteExpiry) ||
		now.Sub(s.LastSeen) >= m.idle || now.Sub(s.CreatedAt) >= m.absolute {
		return Session{}, ErrNotFound
	}
	if !s.Closing.IsZero() && now.Sub(s.Closing) >= m.grace {
		// The grace is over with no request: the tab was closed. The store
		// may still hold it (a touch raced the mark, or the Manager that
		// marked it had a longer grace); end it for every instance.
		if _, err := m.store.Delete(ctx, hash); err != nil && !errors.Is(err, ErrNotFound) {
			return Session{}, storeErr(err)
		}
		return Session{}, ErrNotFound
	}
	return s, nil
}

// unmark clears s's closing mark in the store and in s, and gives the
// session back the expiry of its last recorded activity; a request then
// records its own activity as usual.
func (m *Manager) unmark(ctx context.Context, s *Session, now time.Time) error {
	expires := earliest(s.LastSeen.Add(m.idle), s.AbsoluteExpiry)
	if err := m.store.MarkClosing(ctx, s.TokenHash, now, time.Time{}, expires); err != nil {
		return storeErr(err)
	}
	s.Closing, s.ExpiresAt = time.Time{}, expires
	return nil
}

// markClosing marks the session for token as closing, for the tab-close
// beacon ([Manager.CloseHandler]): it ends [Config.CloseGrace]
// later (or at its idle or absolute expiry, if sooner) unless a request
// with the token comes first, which clears the mark. It returns
// [ErrNotFound] without a live session.
func (m *Manager) markClosing(ctx context.Context, token string) error {
	hash, ok := hashToken(token)
	if !ok {
		return ErrNotFound
	}
	now := m.now()
	s, err := m.load(ctx, hash, now)
	if err != nil {
		return err
	}
	closing := now.UTC().Truncate(time.Microsecond)
	// The expiry the mark shortens is the session's own, not the one read:
	// if the session is marked already, the expiry read is that earlier
	// mark's, and a request on another instance may clear it between our
	// read and our write. Carrying it over would end at the old mark's
	// grace a session that has had a request after every mark.
	expires := s.ExpiresAt
	if !s.Closing.IsZero() {
		expires = earliest(s.LastSeen.Add(m.idle), s.AbsoluteExpiry)
	}
	if err := m.store.MarkClosing(ctx, hash, now, closing, earliest(expires, closing.Add(m.grace))); err != nil {
		return storeErr(err)
	}
	m.event(ctx, Event{Type: EventClosing, Time: closing, UserID: s.UserID, SessionID: s.ID})
	return nil
}

func storeErr(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("session: store: %w", err)
}

// timeLeft reports how long the session for token has until it expires
// for inactivity (idle) and at the latest (absolute), without recording
// activity: polling it for an "expiring soon" banner does not keep the
// session alive. The idle figure is what the server will enforce. A poll
// does clear a closing mark ([Manager.CloseHandler]): it comes from a page
// that is still open.
func (m *Manager) timeLeft(ctx context.Context, token string) (idle, absolute time.Duration, err error) {
	hash, ok := hashToken(token)
	if !ok {
		return 0, 0, ErrNotFound
	}
	now := m.now()
	s, err := m.load(ctx, hash, now)
	if err != nil {
		return 0, 0, err
	}
	if !s.Closing.IsZero() {
		// A page that polls is open: clear the mark, without counting the
		// poll as activity (the expiry goes back to the last activity's).
		if err := m.unmark(ctx, &s, now); err != nil {
			return 0, 0, err
		}
	}
	abs := earliest(s.AbsoluteExpiry, s.CreatedAt.Add(m.absolute))
	exp := earliest(earliest(s.ExpiresAt, s.LastSeen.Add(m.idle)), abs)
	return exp.Sub(now), abs.Sub(now), nil
}

// Rotate replaces the session for token with a new one with a new token,
// for a privilege change or step-up (ASVS 7.2.4): the old token stops
// working in the same atomic step. factors, if not nil, records a fresh
// authentication with those factors (AuthTime becomes now, and a new
// absolute lifetime starts); with nil factors the authentication time,
// factors and absolute expiry carry over, so rotating never extends a
// session past its absolute lifetime (ASVS 7.3.2). The remember-me
// family, if any, carries over.
func (m *Manager) Rotate(ctx context.Context, token string, factors []string) (Issued, error) {
	hash, ok := hashToken(token)
	if !ok {
		return Issued{}, ErrNotFound
	}
	old, err := m.load(ctx, hash, m.now())
	if err != nil {
		return Issued{}, err
	}
	l := Login{Factors: old.Factors, IP: old.IP, UserAgent: old.UserAgent}
	authTime := old.AuthTime
	absCap := earliest(old.AbsoluteExpiry, old.CreatedAt.Add(m.absolute))
	if factors != nil {
		l.Factors, authTime, absCap = factors, time.Time{}, time.Time{}
	}
	iss, err := m.create(ctx, old.UserID, l, hash, old.RememberFamily, authTime, absCap)
	if err != nil {
		return Issued{}, err
	}
	m.event(ctx, Event{Type: EventRotated, Time: iss.Session.CreatedAt, UserID: old.UserID, SessionID: iss.Session.ID})
	return iss, nil
}

// Destroy ends the session for token on the server (logout), with its
// remember-me family. It returns [ErrNotFound] if there was none.
func (m *Manager) Destroy(ctx context.Context, token string) error {
	hash, ok := hashToken(token)
	if !ok {
		return ErrNotFound
	}
	s, err := m.store.Delete(ctx, hash)
	if err != nil {
		return storeErr(err)
	}
	m.event(ctx, Event{Type: EventLogout, Time: m.now().UTC(), UserID: s.UserID, SessionID: s.ID})
	return nil
}

// resume starts a new session from a remember-me token, for
// [Manager.Middleware], rotating the token: the returned Issued carries a
// new RememberToken, which replaces the old one in the client. The new
// session ends with the family at the latest, and its AuthTime is that of
// the original login and its only factor is [FactorRemember], so
// [Manager.RequireRecent] asks for a fresh authentication before sensitive
// actions. Presenting a token that was already used returns [ErrReused]
// after revoking the family (someone else holds a copy). At the limit
// (without [Config.ReplaceOld]) resume returns [ErrLimit] together with the
// rotated RememberToken, which the client must keep.
func (m *Manager) resume(ctx context.Context, rememberToken string, l Login) (Issued, error) {
	if !m.remember {
		return Issued{}, errRememberDisabled
	}
	old, ok := hashToken(rememberToken)
	if !ok {
		return Issued{}, ErrNotFound
	}
	// The next remember-me token goes where the old one is: both are the
	// same user's.
	next, nextHash, err := m.newToken(old[0])
	if err != nil {
		return Issued{}, err
	}
	now := m.now().UTC()
	rec, err := m.store.RotateRemember(ctx, old, nextHash, now)
	switch {
	case errors.Is(err, ErrReused):
		m.event(ctx, Event{Type: EventRememberReuse, Time: now, UserID: rec.UserID})
		return Issued{}, ErrReused
	case err != nil:
		return Issued{}, storeErr(err)
	}
	l.Remember, l.Factors = false, []string{FactorRemember}
	// The session ends with its family at the latest: a resume just
	// before the family expires must not buy another absolute lifetime.
	iss, err := m.create(ctx, rec.UserID, l, [32]byte{}, rec.Family, rec.AuthTime, rec.ExpiresAt)
	iss.RememberToken, iss.RememberExpires = next, rec.ExpiresAt
	if err != nil {
		return iss, err
	}
	m.event(ctx, Event{Type: EventResumed, Time: now, UserID: rec.UserID, SessionID: iss.Session.ID})
	return iss, nil
}

// List returns the user's live sessions, oldest first, for a "your
// devices" page or an admin view.
func (m *Manager) List(ctx context.Context, userID string) ([]Session, error) {
	ss, err := m.store.List(ctx, userID, m.now())
	if err != nil {
		return nil, storeErr(err)
	}
	return ss, nil
}

// Revoke ends the user's session with id (from [Session.ID]) and its
// remember-me family. Users revoking one of their devices and admins
// (ASVS 7.4.5) call it alike; the userID scopes the id so one user cannot
// end another's session by guessing ids.
func (m *Manager) Revoke(ctx context.Context, userID, id string) error {
	if err := m.store.Revoke(ctx, userID, id); err != nil {
		return storeErr(err)
	}
	m.event(ctx, Event{Type: EventRevoked, Time: m.now().UTC(), UserID: userID, SessionID: id})
	return nil
}

// RevokeAll ends every session of the user except the one with id
// exceptID ("" for none), with their remember-me families, and reports how
// many sessions it ended. With exceptID "" it is "log out everywhere":
// account disabled or deleted (ASVS 7.4.2), admin termination (ASVS
// 7.4.5). With the current session's id it is "log out my other devices",
// offered after a password or MFA change (ASVS 7.4.3); an exceptID that
// names no session of the user keeps none.
func (m *Manager) RevokeAll(ctx context.Context, userID, exceptID string) (int, error) {
	n, err := m.store.RevokeUser(ctx, userID, exceptID)
	if err != nil {
		return 0, storeErr(err)
	}
	m.event(ctx, Event{Type: EventRevokedAll, Time: m.now().UTC(), UserID: userID, SessionID: exceptID, Count: n})
	return n, nil
}

// RequireRecent returns nil if s authenticated within maxAge and with every
// factor in factors, and [ErrStepUp] otherwise (ASVS 7.5.1, 7.5.3). A
// session resumed from remember-me has only [FactorRemember] and an old
// AuthTime. After a successful re-authentication, call [Manager.Rotate]
// (or [Manager.StepUp]) with the factors used.
func (m *Manager) RequireRecent(s Session, maxAge time.Duration, factors ...string) error {
	if s.AuthTime.IsZero() || m.now().Sub(s.AuthTime) > maxAge {
		return ErrStepUp
	}
	for _, f := range factors {
		if !slices.Contains(s.Factors, f) {
			return ErrStepUp
		}
	}
	return nil
}

// cleanupBatch is how many expired rows one statement deletes, small
// enough not to hold locks for long.
const cleanupBatch = 1000

// Cleanup deletes expired sessions and remember-me tokens in batches, if
// the store needs it (it implements [Cleaner]: sqlstore and memstore do,
// while Redis expires redisstore's keys by itself). Run it from a periodic
// job on one instance or several; it is safe concurrently. It stops when a
// batch comes back short or ctx is done, and reports how many it deleted.
func (m *Manager) Cleanup(ctx context.Context) (int, error) {
	c, ok := m.store.(Cleaner)
	if !ok {
		return 0, nil
	}
	total := 0
	for {
		n, err := c.DeleteExpired(ctx, m.now(), cleanupBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("session: cleanup: %w", err)
		}
		if n < cleanupBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// maxUserAgent bounds the User-Agent kept with a session (cut on a
// character boundary): the client chooses it, up to net/http's 1 MB of
// headers, and every session list and event would carry it.
const maxUserAgent = 512

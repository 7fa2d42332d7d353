package org

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// Permission names one thing a member may do, such as "clients.read". The
// host declares its catalogue in [Config.Permissions].
type Permission string

// PermMembersManage lets a member invite, create staff, change roles,
// define roles, grant, and remove members. It is always in the catalogue.
const PermMembersManage Permission = "members.manage"

// The built-in roles every tenant starts with. Their permissions come from
// [Config]; custom roles cannot take these names.
const (
	RoleOwner         = "owner"         // every permission; only an owner makes or unmakes owners
	RoleAdministrator = "administrator" // every permission
	RoleMember        = "member"        // Config.MemberPermissions
	RoleReadOnly      = "read-only"     // Config.ReadOnlyPermissions
)

func builtIn(role string) bool {
	return role == RoleOwner || role == RoleAdministrator || role == RoleMember || role == RoleReadOnly
}

// Resource names what a check or a grant is about. The zero Resource means
// the whole tenant. A grant names Type and exactly one of ID (one record) or
// Group (every record the host files under that group); a check names Type,
// ID and, when the record belongs to one, its Group.
type Resource struct {
	Type  string // "client", "project", ...
	ID    string
	Group string
}

// Actor is who makes a change, for the escalation checks and the hook. IP
// is optional and only reported.
type Actor struct {
	User string
	IP   string
}

// Errors. Every error the package returns wraps one of these or is an
// [*UnknownPermissionError]; none contains a token or password.
var (
	// ErrNotFound: the tenant, member, role, grant, invitation or token does
	// not exist (or the invitation expired or was used).
	ErrNotFound = errors.New("org: not found")
	// ErrDuplicate: the tenant, membership or grant exists already.
	ErrDuplicate = errors.New("org: already exists")
	// ErrForbidden: the actor lacks a permission the change needs, or the
	// change would give someone a permission the actor does not hold.
	ErrForbidden = errors.New("org: not permitted")
	// ErrLastOwner: the change would leave the tenant without an owner.
	ErrLastOwner = errors.New("org: the last owner cannot leave or be demoted")
	// ErrOwnRole: a member tried to change their own role or grants, or the
	// definition of the role they hold.
	ErrOwnRole = errors.New("org: a member cannot change their own role")
	// ErrRoleInUse: [Manager.DeleteRole] on a role a member or grant uses.
	ErrRoleInUse = errors.New("org: role in use")
	// ErrWrongAddress: [Manager.Accept] with an address other than the
	// invited one.
	ErrWrongAddress = errors.New("org: invitation is for another address")
	// ErrInvalidToken: [Manager.ValidateToken] on a malformed, unknown,
	// expired or revoked token (deliberately one error).
	ErrInvalidToken = errors.New("org: invalid token")
	// ErrInvalid: an argument is empty or malformed.
	ErrInvalid = errors.New("org: invalid argument")
	// ErrNoAccounts: [Manager.CreateStaff] without [Config.Accounts].
	ErrNoAccounts = errors.New("org: no account creator configured")
)

// UnknownPermissionError reports a permission that is not in the catalogue.
type UnknownPermissionError struct {
	Permission Permission
}

func (e *UnknownPermissionError) Error() string {
	return fmt.Sprintf("org: unknown permission %q", string(e.Permission))
}

// EventType names a reportable event.
type EventType string

// Event types reported through [Config.Hook].
const (
	EventTenantCreated      EventType = "org.tenant_created"
	EventInvited            EventType = "org.invited"
	EventInvitationAccepted EventType = "org.invitation_accepted"
	EventInvitationRevoked  EventType = "org.invitation_revoked"
	EventStaffCreated       EventType = "org.staff_created"
	EventRoleChanged        EventType = "org.role_changed" // a member's role
	EventMemberRemoved      EventType = "org.member_removed"
	EventRoleDefined        EventType = "org.role_defined" // a custom role created or edited
	EventRoleDeleted        EventType = "org.role_deleted"
	EventGranted            EventType = "org.granted"
	EventGrantRevoked       EventType = "org.grant_revoked"
	EventTokenCreated       EventType = "org.token_created"
	EventTokenRevoked       EventType = "org.token_revoked"
	EventDenied             EventType = "org.denied" // a change refused by an escalation guard
)

// Event is what [Config.Hook] receives. It never holds a token, password or
// hash.
type Event struct {
	Type   EventType
	Time   time.Time
	Tenant string
	Actor  string // the user who acted ("" for none)
	IP     string // the actor's address when the caller passed one
	User   string // the member concerned, when there is one
	Role   string
	// Resource of a grant.
	Resource Resource
	// Email of an invitation or a created staff account.
	Email string
	// ID of the invitation, grant or token.
	ID string
	// Permissions of a defined role or a token's scope.
	Permissions []Permission
	// Err is the reason of an [EventDenied].
	Err error
}

// AccountCreator creates a staff account in the host's users table.
// [Manager.CreateStaff] calls it with a generated initial password, which
// the host hashes and stores with the must-change flag, and returns the new
// user's id.
type AccountCreator interface {
	CreateAccount(ctx context.Context, email, initialPassword string, mustChange bool) (user string, err error)
}

// Defaults, documented on [Config].
const (
	defaultInvitationTTL = 7 * 24 * time.Hour
	defaultTokenTTL      = 90 * 24 * time.Hour
	defaultMaxTokenTTL   = 366 * 24 * time.Hour
	defaultCacheTTL      = time.Second
	defaultTouch         = time.Minute
	defaultPrefix        = "bwk_"
	maxPermissions       = 256
)

// Config configures a [Manager]. The zero value means every default below.
type Config struct {
	// Permissions is the host's catalogue, at most 256 entries.
	// [PermMembersManage] is always added. Default: just that one.
	Permissions []Permission
	// MemberPermissions are the built-in member role's. Default: every
	// catalogue permission except [PermMembersManage].
	MemberPermissions []Permission
	// ReadOnlyPermissions are the built-in read-only role's. Default:
	// those whose name ends in ".read".
	ReadOnlyPermissions []Permission

	// Accounts creates staff accounts for [Manager.CreateStaff]; nil makes
	// CreateStaff return [ErrNoAccounts].
	Accounts AccountCreator

	// InvitationTTL is how long an invitation can be accepted. Default 7
	// days: long enough for a week-end and a holiday, short enough that a
	// forgotten mail stops being a way in (ASVS 6.4.1 asks for short-lived
	// activation secrets; the address binding covers the rest).
	InvitationTTL time.Duration
	// TokenTTL is an API token's lifetime when its creator asks for none.
	// Default 90 days, the usual rotation period of machine credentials.
	TokenTTL time.Duration
	// MaxTokenTTL caps any token's lifetime. Default 366 days, so every
	// token expires (ASVS 11.1.1 key lifetimes).
	MaxTokenTTL time.Duration
	// TokenPrefix starts every API token; lowercase letters and digits
	// ending in "_", so secret scanners can match it. Default "bwk_".
	TokenPrefix string
	// TokenTouchInterval is how often a token's last use is written at
	// most. Default 1 minute.
	TokenTouchInterval time.Duration

	// CacheTTL bounds how long a change made through another instance can
	// go unseen: each instance reads a tenant's version at most once per
	// CacheTTL. Default and maximum 1 second (issue 16's bound); larger
	// values are refused. Changes made through this instance apply at the
	// next check.
	CacheTTL time.Duration

	// ClientIP returns the client address [Manager.TokenMiddleware]
	// records as a token's last use. Default: the host part of
	// RemoteAddr. Behind a proxy, pass the clientip helper with its list of
	// trusted proxies; never read X-Forwarded-For unchecked.
	ClientIP func(*http.Request) string

	// Hook, if set, receives every [Event], synchronously: a slow hook
	// slows the call.
	Hook func(context.Context, Event)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the randomness for tokens, passwords and ids. Default
	// crypto/rand.Reader.
	Rand io.Reader
}

// Manager manages tenants, members, roles, grants, invitations and API
// tokens, and answers permission checks from a cache. It is safe for
// concurrent use; several Managers (one per app instance) may share one
// store.
type Manager struct {
	st    Store
	cfg   Config
	perms []Permission       // catalogue, in index order
	index map[Permission]int // permission -> bit
	all   bitset
	memb  bitset
	ro    bitset
	ttl   int64 // CacheTTL in nanoseconds
	nanos func() int64

	tenants sync.Map     // tenant -> *tenantCache
	cached  atomic.Int64 // tenants added since the last Clear
	randMu  sync.Mutex
}

// New returns a Manager over st. A zero cfg means every default.
func New(st Store, cfg Config) (*Manager, error) {
	if st == nil {
		return nil, errors.New("org: nil store")
	}
	if cfg.InvitationTTL == 0 {
		cfg.InvitationTTL = defaultInvitationTTL
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = defaultTokenTTL
	}
	if cfg.MaxTokenTTL == 0 {
		cfg.MaxTokenTTL = defaultMaxTokenTTL
	}
	if cfg.TokenTouchInterval == 0 {
		cfg.TokenTouchInterval = defaultTouch
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = defaultCacheTTL
	}
	if cfg.TokenPrefix == "" {
		cfg.TokenPrefix = defaultPrefix
	}
	// The cache's clock: the monotonic clock by default (one vDSO call
	// instead of time.Now's two, and immune to wall-clock steps), the
	// injected clock when there is one.
	nanos := func() int64 { return cfg.Now().UnixNano() }
	if cfg.Now == nil {
		cfg.Now = time.Now
		base := time.Now()
		nanos = func() int64 { return int64(time.Since(base)) }
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	switch {
	case cfg.InvitationTTL < 0 || cfg.TokenTTL < 0 || cfg.MaxTokenTTL < 0 || cfg.TokenTouchInterval < 0 || cfg.CacheTTL < 0:
		return nil, errors.New("org: negative duration in Config")
	case cfg.CacheTTL > time.Second:
		return nil, errors.New("org: CacheTTL above 1s would let a revoked permission live longer than documented")
	case cfg.TokenTTL > cfg.MaxTokenTTL:
		return nil, errors.New("org: TokenTTL above MaxTokenTTL")
	case !validPrefix(cfg.TokenPrefix):
		return nil, errors.New("org: TokenPrefix must be 1-16 lowercase letters or digits followed by _")
	}
	m := &Manager{st: st, cfg: cfg, index: map[Permission]int{}, ttl: int64(cfg.CacheTTL), nanos: nanos}
	for _, p := range append([]Permission{PermMembersManage}, cfg.Permissions...) {
		// Stores keep a role's permissions space-separated.
		if p == "" || len(p) > 128 || !utf8.ValidString(string(p)) || strings.IndexFunc(string(p), badPermRune) >= 0 {
			return nil, fmt.Errorf("org: invalid permission name %q", string(p))
		}
		if _, ok := m.index[p]; ok {
			continue
		}
		if len(m.perms) == maxPermissions {
			return nil, fmt.Errorf("org: more than %d permissions", maxPermissions)
		}
		m.index[p] = len(m.perms)
		m.all.set(len(m.perms))
		m.perms = append(m.perms, p)
	}
	var err error
	if cfg.MemberPermissions == nil {
		m.memb = m.all
		m.memb.clear(m.index[PermMembersManage])
	} else if m.memb, err = m.bits(cfg.MemberPermissions); err != nil {
		return nil, err
	}
	if cfg.ReadOnlyPermissions == nil {
		for i, p := range m.perms {
			if strings.HasSuffix(string(p), ".read") {
				m.ro.set(i)
			}
		}
	} else if m.ro, err = m.bits(cfg.ReadOnlyPermissions); err != nil {
		return nil, err
	}
	return m, nil
}

// Permissions returns the catalogue, [PermMembersManage] first.
func (m *Manager) Permissions() []Permission { return append([]Permission(nil), m.perms...) }

func (m *Manager) bits(ps []Permission) (bitset, error) {
	var b bitset
	for _, p := range ps {
		i, ok := m.index[p]
		if !ok {
			return b, &UnknownPermissionError{Permission: p}
		}
		b.set(i)
	}
	return b, nil
}

func (m *Manager) names(b bitset) []Permission {
	var out []Permission
	for i, p := range m.perms {
		if b.has(i) {
			out = append(out, p)
		}
	}
	return out
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

func (m *Manager) emit(ctx context.Context, e Event) {
	if m.cfg.Hook == nil {
		return
	}
	e.Time = m.now()
	m.cfg.Hook(ctx, e)
}

func (m *Manager) random(b []byte) error {
	m.randMu.Lock()
	defer m.randMu.Unlock()
	if _, err := io.ReadFull(m.cfg.Rand, b); err != nil {
		return fmt.Errorf("org: random: %w", err)
	}
	return nil
}

func (m *Manager) newID() (string, error) {
	m.randMu.Lock()
	defer m.randMu.Unlock()
	id, err := uuid.NewV7FromReader(m.cfg.Rand)
	if err != nil {
		return "", fmt.Errorf("org: random: %w", err)
	}
	return id.String(), nil
}

// NormalizeEmail is how invitations compare addresses: surrounding space
// removed, Unicode NFC, lower case. An invitation is bound to the
// normalised address it was sent to.
func NormalizeEmail(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && utf8.ValidString(s) && !strings.ContainsAny(s, " \t\r\n")
}

func badPermRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func validPrefix(p string) bool {
	if len(p) < 2 || len(p) > 17 || p[len(p)-1] != '_' {
		return false
	}
	for i := 0; i < len(p)-1; i++ {
		c := p[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

package session

import (
	"context"
	"time"
)

// Store is what a [Manager] needs from storage: the sessions themselves,
// keyed by the SHA-256 hash of their token; the per-user index; the
// tab-close mark; and remember-me tokens. memstore, sqlstore and
// redisstore implement it, and session/sessiontest checks any
// implementation against the contract below.
//
// It is one interface of eleven methods, in four groups, rather than four
// small ones: an implementation needs all of them, and no caller uses a
// group alone. A store may also implement [Cleaner] and [TokenPlacer].
//
// The contract, for every method:
//   - Expiry is judged against the time passed in (the Manager's injected
//     clock), never the store's own clock. A record whose ExpiresAt is not
//     after now is treated as absent.
//   - Missing, expired and revoked records are reported as [ErrNotFound].
//     Any other error is a system failure; the Manager treats it as a denial.
//   - Stores keep only SHA-256 hashes of tokens; they never see a token.
//   - Every method is safe for concurrent use, including from several
//     processes sharing one database.
type Store interface {
	// Sessions, keyed by the SHA-256 hash of their token.

	// Create stores s and enforces lim for s.UserID in the same atomic step:
	// the user's live sessions (ExpiresAt after s.CreatedAt) are counted,
	// and if there are lim.Max or more, Create returns [ErrLimit] and
	// stores nothing, unless lim.ReplaceOld, which deletes the oldest ones (by
	// CreatedAt), with their remember-me families, until s fits. If replaces
	// is not the zero hash, the user's session with that token hash is
	// deleted first in the same step (token rotation; its remember-me
	// family is kept, since s carries it on); if the user has no live
	// session with that hash (it was revoked or expired meanwhile), Create
	// returns [ErrNotFound] and stores nothing, so that a rotation never
	// brings a revoked session back. Create returns the
	// ids of the sessions it evicted. The user's expired sessions may be
	// pruned on the way.
	Create(ctx context.Context, s *Session, lim Limit, replaces [32]byte) (evicted []string, err error)
	// Get returns the live session whose token hash is hash. The returned
	// value must not share mutable memory with the store.
	Get(ctx context.Context, hash [32]byte, now time.Time) (Session, error)
	// Touch records activity: LastSeen becomes the later of its value and
	// now, ExpiresAt the later of its value and expires (which the Manager
	// has already capped at AbsoluteExpiry). While the session is marked
	// closing (Closing not zero) it leaves ExpiresAt and Closing as they
	// are: a touch that raced the tab-close beacon must not keep a closed
	// session listed, or counted by the single-session rule, past the
	// grace. It returns [ErrNotFound] if the session is absent or expired
	// at now.
	Touch(ctx context.Context, hash [32]byte, now, expires time.Time) error
	// Delete deletes the session with token hash hash and its remember-me
	// family, and returns the deleted session. Deleting an absent session
	// returns [ErrNotFound].
	Delete(ctx context.Context, hash [32]byte) (Session, error)

	// The per-user index. Each of these costs O(that user's sessions),
	// never a scan of all sessions.

	// List returns the user's live sessions, oldest first.
	List(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// Revoke deletes the user's session with id, with its remember-me
	// family. It returns [ErrNotFound] if the user has no such session.
	Revoke(ctx context.Context, userID, id string) error
	// RevokeUser deletes every session of the user except the one with id
	// exceptID (none when empty), and every remember-me family of the user
	// except that session's. It returns how many sessions it deleted.
	RevokeUser(ctx context.Context, userID, exceptID string) (int, error)

	// The tab-close mark (see [Manager.CloseHandler]): the session ends a
	// short grace later unless a request from it clears the mark first.

	// MarkClosing sets the session's Closing to closing and its ExpiresAt
	// to expires, if the session with token hash hash is live at now; it
	// returns [ErrNotFound] otherwise. The Manager marks a session with
	// closing = now and an expires no later than the current ExpiresAt (the
	// end of the grace), and clears the mark with a zero closing and the
	// expiry to restore (never past the idle or absolute limit). Because
	// the mark lowers ExpiresAt, every store method treats a session whose
	// grace has passed as expired, with no extra rule.
	MarkClosing(ctx context.Context, hash [32]byte, now, closing, expires time.Time) error

	// Remember-me tokens, keyed by the SHA-256 hash of the token. Tokens
	// of one login form a family; each use replaces the token with a new
	// one of the same family.

	// CreateRemember stores a new token (the first of its family).
	CreateRemember(ctx context.Context, r Remember) error
	// RotateRemember atomically marks the unused, live token with hash old
	// as used and stores a token with hash next in its place: same Family,
	// UserID, AuthTime and ExpiresAt, CreatedAt now. It returns the old
	// record. If the old token was already used, the whole family and the
	// user's sessions started from it are deleted and [ErrReused] is
	// returned with the old record. An unknown or expired token returns
	// [ErrNotFound].
	RotateRemember(ctx context.Context, old, next [32]byte, now time.Time) (Remember, error)
	// RevokeRemember deletes the family of the token with hash hash and the
	// user's sessions started from it (logout with a remember-me cookie).
	// An unknown token returns [ErrNotFound].
	RevokeRemember(ctx context.Context, hash [32]byte) error
}

// TokenPlacer is implemented by stores that place a user's records by the
// first byte of their token hashes, so that a token alone leads to the
// shard holding its user's sessions and index (redisstore, which spreads
// users over the slots of a Redis Cluster). The [Manager] then draws each
// session and remember-me token of userID until the first byte of its
// SHA-256 hash is TokenByte(userID): 256 draws on average, about 50 µs at
// login, and the token keeps 248 bits of entropy (ASVS 7.2.3 asks for 128).
// TokenByte must be a pure function of userID.
type TokenPlacer interface {
	TokenByte(userID string) byte
}

// Cleaner is implemented by stores that do not expire records by
// themselves (sqlstore, memstore). Hosts call [Manager.Cleanup] from a
// periodic job.
type Cleaner interface {
	// DeleteExpired deletes at most batch sessions and remember-me tokens
	// that expired at or before now, and reports how many it deleted.
	DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error)
}

// Limit is the single-session rule a [Store.Create] call enforces.
type Limit struct {
	// Max is the number of live sessions a user may hold; 0 or less means
	// no limit.
	Max int
	// ReplaceOld says what happens at the limit: false refuses the new
	// session with [ErrLimit], true deletes the oldest ones to make room.
	ReplaceOld bool
}

// Remember is a stored remember-me token.
type Remember struct {
	Hash      [32]byte  // SHA-256 of the token
	Family    string    // UUIDv7, shared by every rotation of one login
	UserID    string    //
	AuthTime  time.Time // when the user last authenticated with a password or other factor
	CreatedAt time.Time // when this token was issued
	ExpiresAt time.Time // end of the family's lifetime, fixed at login
}

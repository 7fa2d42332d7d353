package keyring

import (
	"context"
	"time"
)

// State is the lifecycle state of a key.
type State string

// Key states. A keyring has at most one [Primary] key, which encrypts;
// [Primary] and [Enabled] keys decrypt; [Disabled] keys do neither but keep
// their material, so re-enabling one makes its ciphertexts readable again.
// Destroying a key deletes its record. Subject keys are always [Primary]
// (one key per subject).
const (
	Primary  State = "primary"
	Enabled  State = "enabled"
	Disabled State = "disabled"
)

// Valid reports whether s is one of the three states.
func (s State) Valid() bool { return s == Primary || s == Enabled || s == Disabled }

// Key is a stored key record. Key material is present only wrapped by the
// key-encryption key; a Store never sees a key in clear.
type Key struct {
	// Subject is "" for the keyring's own keys and the subject (user,
	// tenant) id for a per-subject key.
	Subject string
	// ID identifies the key within its subject. The keyring's data keys have
	// random non-zero ids; id 0 of subject "" is the blind-index key.
	ID uint32
	// State is the key's lifecycle state.
	State State
	// Wrapped is the data-encryption key wrapped by the KEK.
	Wrapped []byte
	// Uses counts the encryptions recorded for the key (see
	// [KeyAdminStore.AddUses]); it lags the true count by at most
	// Config.UsageFlushEvery per process.
	Uses uint64
	// CreatedAt and UpdatedAt are set by the caller (the keyring's clock).
	CreatedAt, UpdatedAt time.Time
}

// Store is everything a [Keyring] needs from storage: the keyring's own keys
// ([KeyStore], [KeyAdminStore]) and per-subject keys ([SubjectKeyStore]).
// Implementations are in store/memstore and store/sqlstore; any other must
// pass keyring/keyringtest.
//
// All methods are safe for concurrent use, by several processes sharing one
// database too. ErrNotFound and ErrDuplicate are returned unwrapped (or
// wrapped, but matching [errors.Is]); any other error is a system failure,
// on which the keyring fails closed.
type Store interface {
	KeyStore
	KeyAdminStore
	SubjectKeyStore
}

// KeyStore holds the keyring's own keys (subject "").
type KeyStore interface {
	// Keys returns every key of subject "", in any state, ordered by id.
	Keys(ctx context.Context) ([]Key, error)
	// Key returns the key of subject "" with the id, or ErrNotFound.
	Key(ctx context.Context, id uint32) (Key, error)
	// AddKey stores k (k.Subject must be ""). It returns ErrDuplicate if
	// the id is taken, or if k.State is Primary and a primary key exists.
	AddKey(ctx context.Context, k Key) error
	// SetState changes a key's state and sets its UpdatedAt to at, atomically
	// with the rules:
	//   - to Primary: the key must be Enabled or already Primary (else
	//     ErrKeyDisabled); the previous primary becomes Enabled in the same
	//     transaction, so there is never more than one primary, even when
	//     several processes promote at once;
	//   - to Enabled or Disabled: the key must not be Primary (else
	//     ErrPrimaryKey).
	// A missing key gives ErrNotFound.
	SetState(ctx context.Context, id uint32, state State, at time.Time) error
}

// KeyAdminStore holds the rarer operations on stored keys.
type KeyAdminStore interface {
	// DestroyKey deletes the key of subject "" with the id. It returns
	// ErrPrimaryKey if it is primary, ErrKeyEnabled if it is enabled, and
	// ErrNotFound if there is none; only disabled keys are deleted.
	DestroyKey(ctx context.Context, id uint32) error
	// ReplaceWrapped sets the wrapped material of key (subject, id) to
	// newWrapped if it still equals oldWrapped, and returns ErrNotFound
	// otherwise (gone, or changed by someone else). Used by Rewrap.
	ReplaceWrapped(ctx context.Context, subject string, id uint32, oldWrapped, newWrapped []byte) error
	// AddUses adds n to the recorded encryption count of key (subject "",
	// id). A missing key is not an error.
	AddUses(ctx context.Context, id uint32, n uint64) error
}

// SubjectKeyStore holds per-subject keys, at most one per subject.
type SubjectKeyStore interface {
	// SubjectKey returns the subject's key, or ErrNotFound.
	SubjectKey(ctx context.Context, subject string) (Key, error)
	// AddSubjectKey stores k (k.Subject non-empty, k.State Primary) unless
	// the subject already has a key, and returns the subject's key: k, or
	// the one stored first when several processes race.
	AddSubjectKey(ctx context.Context, k Key) (Key, error)
	// DeleteSubjectKey deletes the subject's key, or returns ErrNotFound.
	DeleteSubjectKey(ctx context.Context, subject string) error
	// SubjectKeys returns up to limit subject keys with Subject > after,
	// ordered by subject, for paging through all of them (after "" starts).
	SubjectKeys(ctx context.Context, after string, limit int) ([]Key, error)
}

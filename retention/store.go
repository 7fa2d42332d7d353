package retention

import (
	"context"
	"errors"
	"time"
)

// Errors returned by stores and passed on by [Manager]. A store returns
// exactly these (possibly wrapped) for the conditions below; any other error
// is a system failure, and the manager treats it as "do nothing" (fail
// closed).
var (
	// ErrNotFound: the subject or erasure does not exist.
	ErrNotFound = errors.New("retention: not found")
	// ErrErased: the subject has already been erased; it cannot be
	// changed or erased again.
	ErrErased = errors.New("retention: subject already erased")
	// ErrOnHold: the subject is under legal hold and cannot be erased.
	ErrOnHold = errors.New("retention: subject on legal hold")
	// ErrChanged: the subject's facts changed since they were read (its
	// version moved on), so an action planned on them no longer applies.
	ErrChanged = errors.New("retention: subject changed since it was read")
	// ErrFenced: a later lock holder (with a higher fencing token) has taken
	// over this erasure; the caller's lease is stale.
	ErrFenced = errors.New("retention: fencing token is stale")
)

// Subject is what the host tells this package about one account: its state
// and timestamps. The host calls [SubjectStore.PutSubject] whenever these
// change (a trial ends, a payment fails, the user is active).
type Subject struct {
	// ID is the host's opaque subject (user or account) id.
	ID string
	// State is the host's lifecycle state, matched against [Rule.State].
	State string
	// Since is when the subject entered State. Set it: a rule that counts
	// from a zero Since is Blocked in the plan and never falls due.
	Since time.Time
	// LastActive is the subject's last activity, for inactivity rules.
	LastActive time.Time
	// HasKey says the subject has its own keyring key, which erasure
	// destroys through the [Shredder] (crypto-shredding). With a Shredder
	// configured, erasure shreds whatever HasKey says; without one, HasKey
	// makes erasure fail closed ([ErrNoShredder]).
	HasKey bool
}

// Hold is a legal hold. A subject on hold is never erased.
type Hold struct {
	// Reason is shown in plans, e.g. "litigation 2026-114". It must not
	// hold personal data. Empty means no hold.
	Reason string
	// Since is when the hold was placed.
	Since time.Time
}

// Record is a stored subject: the host's facts plus what this package has
// done to it.
type Record struct {
	Subject
	// Version increases with every PutSubject; actions planned on one
	// version are refused on another (see [ErrChanged]).
	Version int64
	// Hold is the legal hold; zero when there is none.
	Hold Hold
	// Warned lists the keys of warnings already sent in the current state.
	Warned []string
	// Suspended and Closed are when this package suspended or closed the
	// subject in its current state; zero if it has not.
	Suspended, Closed time.Time
	// Erased is when the subject was erased; the record is then a tombstone
	// holding only the ID, Erased and Receipt.
	Erased time.Time
	// Receipt is the id of the erasure receipt, once erased.
	Receipt string
}

// Mark records one action taken on a subject.
type Mark struct {
	// Action is Warn, Suspend or Close (erasures go through [ErasureStore]).
	Action Action
	// Key identifies a warning, so each is sent once; empty for other
	// actions.
	Key string
	// At is when the action was taken.
	At time.Time
	// Fence is the lock holder's fencing token, or 0 for a caller that
	// holds no lock. A store refuses a mark whose nonzero Fence is below
	// the token recorded by [FenceStore.AdvanceFence] ([ErrFenced]).
	Fence int64
}

// Erasure is the progress of one subject's erasure.
type Erasure struct {
	// ID is a UUIDv7; it is also the receipt's id.
	ID string
	// Subject is the subject being erased.
	Subject string
	// Rule is the rule that made the subject due, or "request" for an
	// erasure asked for through [Manager.Erase].
	Rule string
	// Fence is the fencing token of the lock holder that last drove it.
	Fence int64
	// SubjectVersion, when not zero, must equal the subject's version for
	// [ErasureStore.BeginErasure] to start a new erasure.
	SubjectVersion int64
	// Started is when the erasure began; Finished when it completed.
	Started, Finished time.Time
	// Done lists the completed steps: "key" (crypto-shredding), the
	// categories erased, and "receipt".
	Done []string
}

// SubjectStore holds the host's facts about subjects.
//
// Implementations are safe for concurrent use and apply each call
// atomically.
type SubjectStore interface {
	// PutSubject creates or updates a subject's facts and increments its
	// version. When State or Since changes, the marks of the previous state
	// (warnings, suspension, closure) are cleared, since the rules that made
	// them no longer apply; the hold is kept. It returns [ErrErased] for an
	// erased subject.
	PutSubject(ctx context.Context, s Subject) error
	// GetSubject returns the record, including tombstones of erased
	// subjects, or [ErrNotFound].
	GetSubject(ctx context.Context, id string) (Record, error)
	// ListSubjects returns up to limit records that are not erased, with
	// ID > after, in ascending ID order (keyset pagination; after "" starts
	// at the beginning). It returns them in buf's storage, appending to
	// buf[:0]: its records, and their Warned slices, may be overwritten
	// and reused, so that a scan of a million subjects ([Manager.PlanAll],
	// [Manager.Run]) does not allocate a page of records per batch. buf
	// may be nil.
	ListSubjects(ctx context.Context, buf []Record, after string, limit int) ([]Record, error)
}

// MarkStore records actions and holds on subjects.
type MarkStore interface {
	// MarkAction records m on the subject if its version is still version.
	// It returns [ErrNotFound], [ErrErased], or [ErrChanged] if the version
	// moved on, and [ErrFenced] if m.Fence is stale (see [FenceStore]).
	// Recording a warning key twice is not an error.
	MarkAction(ctx context.Context, id string, version int64, m Mark) error
	// SetHold places (h.Reason != "") or lifts (zero h) a legal hold. It
	// returns [ErrNotFound] or [ErrErased].
	SetHold(ctx context.Context, id string, h Hold) error
}

// ErasureStore records erasure progress so that a crash part-way resumes
// where it stopped. Each fence argument is the caller's lock fencing token:
// a call with a fence lower than the one recorded on the erasure returns
// [ErrFenced], and so does a call with a nonzero fence lower than the token
// recorded by [FenceStore.AdvanceFence].
type ErasureStore interface {
	// BeginErasure starts e for e.Subject, atomically refusing if the
	// subject is on hold ([ErrOnHold]), erased ([ErrErased]), missing
	// ([ErrNotFound]) or, when e.SubjectVersion is not zero, at another
	// version ([ErrChanged]). If an unfinished erasure of the subject
	// exists, it is returned instead (its fence raised to e.Fence) and e is
	// ignored: at most one erasure per subject is ever in progress.
	BeginErasure(ctx context.Context, e Erasure) (Erasure, error)
	// StepErasure records step as done on the unfinished erasure id.
	// It returns [ErrNotFound] if there is no such unfinished erasure.
	StepErasure(ctx context.Context, id string, fence int64, step string) error
	// FinishErasure completes erasure id at the given time and turns its
	// subject into a tombstone (see [Record.Erased]) in one atomic step.
	// It returns [ErrNotFound] if there is no such unfinished erasure.
	FinishErasure(ctx context.Context, id string, fence int64, at time.Time) error
	// PendingErasures returns up to limit unfinished erasures, oldest first.
	PendingErasures(ctx context.Context, limit int) ([]Erasure, error)
}

// FenceStore records the fencing token of the newest scheduler lock holder,
// so that the store itself refuses every write of an older holder, whatever
// lock ([Locker]) handed the tokens out and whether or not that holder has
// noticed that it lost the lock.
type FenceStore interface {
	// AdvanceFence records fence as the current token if it is higher than
	// the one recorded (recording the same token again is not an error).
	// It returns [ErrFenced] if a higher token is already recorded. From
	// then on every write that carries a nonzero fence below the recorded
	// token (MarkAction's Mark.Fence, BeginErasure's Erasure.Fence,
	// StepErasure's and FinishErasure's fence) returns [ErrFenced], in the
	// same atomic step as the write; a fence of 0 (a caller that holds no
	// lock, such as [Manager.Erase]) is not compared with it.
	AdvanceFence(ctx context.Context, fence int64) error
}

// Store is everything the [Manager] needs from storage. memstore and
// sqlstore implement it; retentiontest checks an implementation.
type Store interface {
	SubjectStore
	MarkStore
	ErasureStore
	FenceStore
}

// Lease is a held scheduler lock.
type Lease interface {
	// Fence returns the fencing token: positive (0 means "no lock" to the
	// store, so [Scheduler.RunOnce] refuses a lease with a token below 1)
	// and strictly greater than the token of every earlier lease on the
	// same job.
	Fence() int64
	// Check proves that the lock is still held by this lease: it returns
	// nil only if the engine still holds the lock for this holder and no
	// later lease has been handed out (the current token is still Fence).
	// Otherwise it returns an error wrapping [ErrLockLost] (or a system
	// error, which the [Scheduler] treats the same: fail closed). The
	// Scheduler calls it before every call into host code. It must be
	// cheap: one round trip.
	Check(ctx context.Context) error
	// Release gives the lock up. It is safe to call more than once.
	Release(ctx context.Context) error
}

// Locker hands out a single-runner lock per job, backed by an engine that
// provides one (a PostgreSQL advisory lock, a Redis lock with a fencing
// token). sqlstore and redisstore implement it; [LocalLocker] serves a
// single process.
type Locker interface {
	// Acquire takes the lock for job, or returns [ErrLocked] at once if
	// another holder has it. ttl bounds how long the lock outlives a holder
	// that disappears, where the engine needs one (Redis).
	Acquire(ctx context.Context, job string, ttl time.Duration) (Lease, error)
}

// ErrLocked is returned by [Locker.Acquire] and [Scheduler.RunOnce] when
// another instance holds the job's lock.
var ErrLocked = errors.New("retention: job locked by another instance")

// ErrLockLost is returned by [Lease.Check], and then by
// [Scheduler.RunOnce], when the lock was lost during a run (its
// connection died, its TTL passed, a later holder took it over). The run
// stops before its next call into host code.
var ErrLockLost = errors.New("retention: scheduler lock lost")

package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Eraser deletes one category of a subject's data. It must be idempotent:
// after a crash it may be called again for a subject it already erased, and
// must then succeed.
type Eraser interface {
	Erase(ctx context.Context, subject string) error
}

// EraserFunc adapts a function to [Eraser].
type EraserFunc func(ctx context.Context, subject string) error

// Erase calls f.
func (f EraserFunc) Erase(ctx context.Context, subject string) error { return f(ctx, subject) }

// Purger is implemented by an [Eraser] whose category has a retention
// period ([Category]): Purge deletes up to limit records of the category
// older than before and returns how many it deleted.
//
// Records belong to subjects, and a subject on legal hold keeps all of its
// data ([Manager.SetHold]): Purge must call held for each subject whose
// records it is about to delete and keep them when it reports true. When
// held returns an error, Purge must delete nothing more and return that
// error (fail closed). A record that belongs to no subject needs no check.
//
// held reports whether subject is under legal hold. A subject this package
// does not know is not on hold. On a store error it reports true along with
// the error, so a Purger that ignored the error would still keep the
// records.
type Purger interface {
	Purge(ctx context.Context, before time.Time, limit int, held func(ctx context.Context, subject string) (bool, error)) (int, error)
}

// Shredder destroys a subject's own encryption key, making every ciphertext
// sealed under it unreadable, backups included (crypto-shredding).
// keyring's *Keyring satisfies it. DestroySubjectKey must be idempotent.
type Shredder interface {
	DestroySubjectKey(ctx context.Context, subject string) error
}

// Notice is a warning to a subject about an action to come.
type Notice struct {
	// Subject is the subject to tell.
	Subject string
	// Action is what will happen: Suspend or Erase (or Warn for a plain
	// warn rule).
	Action Action
	// Rule is the rule that will do it.
	Rule string
	// Due is when it will happen.
	Due time.Time
	// Key is stable for this warning: a Notifier that may be called twice
	// after a crash can use it to send only once.
	Key string
}

// Notifier sends warnings (e-mail, in-app). A returned error leaves the
// warning unrecorded, so the next run tries again.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Actor carries out the account actions that belong to the host. Both
// methods must be idempotent.
type Actor interface {
	Suspend(ctx context.Context, subject string) error
	Close(ctx context.Context, subject string) error
}

// Receipt is the proof that an erasure completed. It holds no personal
// data: not the subject id, only what was done and when.
type Receipt struct {
	// ID is the erasure's UUIDv7; [Manager.Erase] returns it so the host
	// can show it to the user.
	ID string
	// Rule is the rule that made the subject due, or "request".
	Rule string
	// Categories are the categories erased, in order.
	Categories []string
	// KeyShredded says the subject's own key was destroyed (the Shredder
	// was called; it may have found no key), so none remains.
	KeyShredded bool
	// Started and Finished bound the erasure.
	Started, Finished time.Time
}

// Recorder keeps erasure receipts, typically in the audit log. Record may
// be called twice with the same receipt after a crash; the ID tells.
type Recorder interface {
	RecordErasure(ctx context.Context, r Receipt) error
}

// EventType says what an [Event] reports.
type EventType string

// Event types.
const (
	// EventWarned: a warning was sent (or, without a Notifier, is due).
	EventWarned EventType = "retention.warned"
	// EventSuspended: the subject was suspended (by the Actor, or for the
	// host to act on).
	EventSuspended EventType = "retention.suspended"
	// EventClosed: the subject was closed.
	EventClosed EventType = "retention.closed"
	// EventErased: an erasure completed; Receipt names it, Subject is
	// empty so that the event holds no personal data.
	EventErased EventType = "retention.erased"
	// EventFailed: an action failed and will be retried next run.
	EventFailed EventType = "retention.failed"
	// EventRun: a run finished; Report holds its figures.
	EventRun EventType = "retention.run"
)

// Event is reported through [Config.Hook]. It never carries personal data
// beyond the host's own opaque subject id, and no error text from stores.
type Event struct {
	Type    EventType
	Subject string    // empty for EventErased (see Receipt) and EventRun
	Rule    string    // the rule involved, if any
	Action  Action    // for EventFailed, the action that failed
	Receipt string    // for EventErased, the receipt id
	Report  *Report   // for EventRun
	Time    time.Time // from Config.Now
}

// Config configures a [Manager]. The zero value is valid and means the
// defaults documented on each field.
type Config struct {
	// Policy is the rule set. The zero Policy means [SaaSLifecycle], the
	// lifecycle most SaaS products promise.
	Policy Policy
	// Actor suspends and closes accounts. If nil, suspensions and closures
	// are only recorded and reported through Hook, for the host to act on.
	Actor Actor
	// Notifier sends warnings. If nil, warnings are only recorded and
	// reported through Hook.
	Notifier Notifier
	// Shredder destroys subjects' own keys. If set, every erasure calls it,
	// whether or not the subject's HasKey is set. If nil, erasing a subject
	// with HasKey fails (fail closed) rather than leave its key behind.
	Shredder Shredder
	// Recorder receives erasure receipts; if nil they go to Hook only.
	Recorder Recorder
	// Hook, if set, receives events. It is optional (nil means no hook)
	// and called synchronously, so a slow hook slows the run.
	Hook func(context.Context, Event)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives each run's figures; default slog.Default().
	Logger *slog.Logger
	// BatchSize is how many subjects a run reads at a time; default 500,
	// so that no query holds the database for long and a page of records
	// stays small in memory.
	BatchSize int
	// MaxActions caps the actions (warnings, suspensions, closures,
	// erasures, purged batches) one run attempts, whether they succeed or
	// fail; the next run continues. Default 1000, which bounds what one
	// run does to the host's Notifier, Actor and Erasers (a runaway
	// policy cannot mail or erase everyone at once).
	MaxActions int
}

// Defaults of [Config]; each field's doc gives the reason.
const (
	defaultBatchSize  = 500
	defaultMaxActions = 1000
)

// ErrNoErasers is returned when an erasure is due but no [Eraser] is
// registered: nothing is marked erased that was not.
var ErrNoErasers = errors.New("retention: no erasers registered")

// ErrNoShredder is returned when a subject with its own key is to be erased
// and [Config.Shredder] is nil.
var ErrNoShredder = errors.New("retention: subject has a key but no Shredder is configured")

// Manager applies a [Policy] to the subjects in a [Store]: it plans, warns,
// suspends, closes and erases. It is safe for concurrent use; to run it on
// a schedule on several instances, use a [Scheduler].
type Manager struct {
	store      Store
	policy     Policy
	cfg        Config
	now        func() time.Time
	log        *slog.Logger
	batch, max int

	mu      sync.Mutex
	erasers []registered
}

// The names under which an erasure records its own steps, beside the
// categories' names (see [Erasure.Done]).
const (
	stepKey     = "key"
	stepReceipt = "receipt"
)

type registered struct {
	category string
	e        Eraser
}

// New returns a Manager over store. A zero cfg means every default
// documented on [Config]. It returns an error if store is nil, and a
// *[PolicyError] if cfg.Policy is invalid.
func New(store Store, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("retention: New with a nil Store")
	}
	if cfg.Policy.Name == "" && cfg.Policy.Rules == nil && cfg.Policy.Categories == nil && cfg.Policy.WarnBefore == 0 {
		cfg.Policy = SaaSLifecycle()
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{store: store, policy: cfg.Policy, cfg: cfg, now: cfg.Now, log: cfg.Logger, batch: cfg.BatchSize, max: cfg.MaxActions}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.batch <= 0 {
		m.batch = defaultBatchSize
	}
	if m.max <= 0 {
		m.max = defaultMaxActions
	}
	return m, nil
}

// Policy returns the policy in force.
func (m *Manager) Policy() Policy { return m.policy }

// Register adds the eraser for a data category. Erasures run the erasers in
// registration order. It panics on an empty or duplicate category, and on
// "key" and "receipt", the names of an erasure's own steps (a category so
// named would share their progress mark and be skipped); each is a
// programming error.
func (m *Manager) Register(category string, e Eraser) {
	if !namePattern.MatchString(category) || e == nil {
		panic("retention: Register with an invalid category name or nil Eraser")
	}
	if category == stepKey || category == stepReceipt {
		panic("retention: Register with the reserved category name " + category)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.erasers {
		if r.category == category {
			panic("retention: Register called twice for category " + category)
		}
	}
	m.erasers = append(m.erasers, registered{category, e})
}

func (m *Manager) registered() []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.erasers)
}

func (m *Manager) nowUTC() time.Time { return m.now().UTC() }

func (m *Manager) emit(ctx context.Context, e Event) {
	if m.cfg.Hook != nil {
		e.Time = m.nowUTC()
		m.cfg.Hook(ctx, e)
	}
}

// Plan reports, for each subject id, what will happen when and under which
// rule; a subject on hold has its erasure blocked with the reason. A subject
// that does not exist gives [ErrNotFound]; an erased one a plan with Erased
// set and no steps.
func (m *Manager) Plan(ctx context.Context, subjects ...string) ([]SubjectPlan, error) {
	out := make([]SubjectPlan, 0, len(subjects))
	for _, id := range subjects {
		r, err := m.store.GetSubject(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("retention: plan: %w", err)
		}
		out = append(out, m.policy.planRecord(r))
	}
	return out, nil
}

// PlanAll streams the plan of every subject that is not erased, in id
// order and in batches, to fn; it stops at fn's first error and returns it.
// It serves admin reports.
//
// The plan's Steps slice is reused for the next subject, so planning a
// million subjects allocates next to nothing beyond reading them: fn must
// copy it (slices.Clone) to keep it after it returns.
func (m *Manager) PlanAll(ctx context.Context, fn func(SubjectPlan) error) error {
	after := ""
	var steps []Step
	list := m.pager()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := list(ctx, after, m.batch)
		if err != nil {
			return fmt.Errorf("retention: plan: %w", err)
		}
		for i := range recs {
			p := m.policy.planInto(recs[i], steps)
			if err := fn(p); err != nil {
				return err
			}
			if cap(p.Steps) > cap(steps) {
				steps = p.Steps[:0]
			}
		}
		if len(recs) < m.batch {
			return nil
		}
		after = recs[len(recs)-1].ID
	}
}

// pager returns a function that reads each page into the previous page's
// storage: the caller must be done with a page before it asks for the
// next.
func (m *Manager) pager() func(ctx context.Context, after string, limit int) ([]Record, error) {
	var page []Record
	return func(ctx context.Context, after string, limit int) ([]Record, error) {
		recs, err := m.store.ListSubjects(ctx, page, after, limit)
		if err == nil && cap(recs) > cap(page) {
			page = recs
		}
		return recs, err
	}
}

// SetHold places a legal hold on subject (reason must not be empty); the
// subject is then never erased until [Manager.ReleaseHold].
func (m *Manager) SetHold(ctx context.Context, subject, reason string) error {
	if reason == "" {
		return errors.New("retention: a hold needs a reason")
	}
	return m.store.SetHold(ctx, subject, Hold{Reason: reason, Since: m.nowUTC()})
}

// ReleaseHold lifts subject's legal hold.
func (m *Manager) ReleaseHold(ctx context.Context, subject string) error {
	return m.store.SetHold(ctx, subject, Hold{})
}

// Erase erases subject now ("Adios"), whatever the policy says, and
// returns the receipt. Offer the user an export first: it is irreversible.
// The subject must be known to the store ([ErrNotFound] otherwise); it is
// refused while on hold ([ErrOnHold]) and once erased ([ErrErased]). If an
// interrupted erasure of the subject exists, Erase completes it, unless a
// scheduler holding the lock has taken it over ([ErrFenced]): the scheduler
// then completes it on its next run.
func (m *Manager) Erase(ctx context.Context, subject string) (Receipt, error) {
	return m.erase(ctx, Erasure{Subject: subject, Rule: "request"}, 0)
}

// erase begins (or resumes) an erasure and drives it to the end.
func (m *Manager) erase(ctx context.Context, e Erasure, fence int64) (Receipt, error) {
	if len(m.registered()) == 0 {
		return Receipt{}, ErrNoErasers
	}
	e.ID = uuid.Must(uuid.NewV7()).String()
	e.Fence = fence
	e.Started = m.nowUTC()
	got, err := m.store.BeginErasure(ctx, e)
	if err != nil {
		return Receipt{}, fmt.Errorf("retention: erase: %w", err)
	}
	return m.resume(ctx, got, fence)
}

// resume carries out the remaining steps of e: the key first (it makes
// every copy unreadable at once, backups included), then each category,
// then the receipt, then the tombstone.
func (m *Manager) resume(ctx context.Context, e Erasure, fence int64) (Receipt, error) {
	regs := m.registered()
	if len(regs) == 0 {
		return Receipt{}, ErrNoErasers
	}
	rec, err := m.store.GetSubject(ctx, e.Subject)
	if err != nil {
		return Receipt{}, fmt.Errorf("retention: erase: %w", err)
	}
	if !rec.Erased.IsZero() {
		return Receipt{}, fmt.Errorf("retention: erase: %w", ErrErased)
	}
	done := func(step string) bool { return slices.Contains(e.Done, step) }
	step := func(name string, f func() error) error {
		if done(name) {
			return nil
		}
		// A hold placed while the erasure is under way stops it before
		// its next step; it resumes when the hold is lifted.
		cur, err := m.store.GetSubject(ctx, e.Subject)
		if err != nil {
			return err
		}
		if cur.Hold.Reason != "" {
			return ErrOnHold
		}
		if err := guard(ctx); err != nil {
			return err
		}
		if err := f(); err != nil {
			return err
		}
		if err := m.store.StepErasure(ctx, e.ID, fence, name); err != nil {
			return err
		}
		e.Done = append(e.Done, name)
		return nil
	}
	r := Receipt{ID: e.ID, Rule: e.Rule, Started: e.Started}
	// With a Shredder, every erasure shreds: DestroySubjectKey is
	// idempotent, and HasKey can lag the keyring, which creates a
	// subject's key on its first SealFor. Without one, HasKey fails closed.
	if rec.HasKey || done(stepKey) || m.cfg.Shredder != nil {
		if m.cfg.Shredder == nil {
			return Receipt{}, ErrNoShredder
		}
		if err := step(stepKey, func() error { return m.cfg.Shredder.DestroySubjectKey(ctx, e.Subject) }); err != nil {
			return Receipt{}, fmt.Errorf("retention: erase: shred key: %w", err)
		}
		r.KeyShredded = true
	}
	for _, reg := range regs {
		if err := step(reg.category, func() error { return reg.e.Erase(ctx, e.Subject) }); err != nil {
			return Receipt{}, fmt.Errorf("retention: erase %s: %w", reg.category, err)
		}
		r.Categories = append(r.Categories, reg.category)
	}
	r.Finished = m.nowUTC()
	if err := step(stepReceipt, func() error {
		if m.cfg.Recorder == nil {
			return nil
		}
		return m.cfg.Recorder.RecordErasure(ctx, r)
	}); err != nil {
		return Receipt{}, fmt.Errorf("retention: erase: record receipt: %w", err)
	}
	// The tombstone is a step too: a hold placed after the last eraser
	// keeps the record (and the hold) until it is lifted.
	if cur, err := m.store.GetSubject(ctx, e.Subject); err != nil {
		return Receipt{}, fmt.Errorf("retention: erase: %w", err)
	} else if cur.Hold.Reason != "" {
		return Receipt{}, fmt.Errorf("retention: erase: %w", ErrOnHold)
	}
	if err := m.store.FinishErasure(ctx, e.ID, fence, r.Finished); err != nil {
		return Receipt{}, fmt.Errorf("retention: erase: %w", err)
	}
	m.emit(ctx, Event{Type: EventErased, Rule: e.Rule, Receipt: e.ID})
	return r, nil
}

package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Report is the figures of one run.
type Report struct {
	// Scanned is how many subjects were read and planned.
	Scanned int
	// Acted is how many actions succeeded: Warned + Suspended + Closed +
	// Erased + Resumed + purge batches.
	Acted int
	// Failed is how many actions failed; each is retried next run.
	Failed int
	// Per-action counts.
	Warned, Suspended, Closed, Erased int
	// Resumed counts interrupted erasures completed this run (also in
	// Erased).
	Resumed int
	// Purged is how many category records were purged for age.
	Purged int
	// Held is how many due erasures a legal hold blocked.
	Held int
	// More says the run stopped at MaxActions with work left.
	More bool
	// Started and Finished bound the run.
	Started, Finished time.Time
}

// Run does one pass: it completes interrupted erasures, then scans every
// subject in batches and takes each action that is due (warnings first),
// then purges categories past their retention period. It stops after
// MaxActions actions and when ctx is cancelled. fence is the caller's lock
// fencing token (0 without a lock; see [Scheduler]). Once a [Scheduler]
// has recorded a higher token in the store ([FenceStore]), a nonzero fence
// below it is refused at its first write, and Run stops with
// [ErrLockLost].
//
// Individual failures are counted in Report.Failed, logged and retried on
// the next run; Run returns an error only when it cannot read the store or
// ctx ends, together with the figures so far. The figures are logged at
// Info level and reported through Hook.
func (m *Manager) Run(ctx context.Context, fence int64) (Report, error) {
	rep := Report{Started: m.nowUTC()}
	err := m.run(ctx, fence, &rep)
	rep.Finished = m.nowUTC()
	lvl := slog.LevelInfo
	if err != nil || rep.Failed > 0 {
		lvl = slog.LevelWarn
	}
	m.log.LogAttrs(ctx, lvl, "retention run",
		slog.String("policy", m.policy.Name),
		slog.Int("scanned", rep.Scanned), slog.Int("acted", rep.Acted), slog.Int("failed", rep.Failed),
		slog.Int("warned", rep.Warned), slog.Int("suspended", rep.Suspended), slog.Int("closed", rep.Closed),
		slog.Int("erased", rep.Erased), slog.Int("resumed", rep.Resumed), slog.Int("purged", rep.Purged),
		slog.Int("held", rep.Held), slog.Bool("more", rep.More), slog.Bool("error", err != nil),
		slog.Duration("took", rep.Finished.Sub(rep.Started)))
	r := rep
	m.emit(ctx, Event{Type: EventRun, Report: &r})
	return rep, err
}

func (m *Manager) budget(rep *Report) bool {
	if rep.Acted+rep.Failed >= m.max {
		rep.More = true
		return false
	}
	return true
}

func (m *Manager) run(ctx context.Context, fence int64, rep *Report) error {
	// 1. Interrupted erasures first: they were due, and they hold a slot.
	pending, err := m.store.PendingErasures(ctx, m.batch)
	if err != nil {
		return fmt.Errorf("retention: run: %w", err)
	}
	for _, e := range pending {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !m.budget(rep) {
			return nil
		}
		// Raise the fence to ours before driving it.
		e, err := m.store.BeginErasure(ctx, Erasure{ID: e.ID, Subject: e.Subject, Rule: e.Rule, Fence: fence, Started: e.Started})
		if err == nil {
			_, err = m.resume(ctx, e, fence)
		}
		switch {
		case superseded(err):
			m.fail(ctx, rep, e.Subject, e.Rule, Erase, err)
			return lost(err)
		case err == nil:
			rep.Acted++
			rep.Erased++
			rep.Resumed++
		case errors.Is(err, ErrOnHold):
			rep.Held++
		case errors.Is(err, ErrErased) || errors.Is(err, ErrNotFound):
			// Another instance finished it meanwhile.
		default:
			m.fail(ctx, rep, e.Subject, e.Rule, Erase, err)
		}
	}
	// 2. Scan subjects.
	after := ""
	list := m.pager()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := list(ctx, after, m.batch)
		if err != nil {
			return fmt.Errorf("retention: run: %w", err)
		}
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !m.budget(rep) {
				return nil
			}
			rep.Scanned++
			if err := m.act(ctx, fence, r, rep); err != nil {
				return err
			}
		}
		if len(recs) < m.batch {
			break
		}
		after = recs[len(recs)-1].ID
	}
	// 3. Purge categories past their retention period.
	return m.purge(ctx, rep)
}

// act takes every action due for r now. It returns an error only when the
// run must stop: the scheduler lock was lost or a newer holder fenced this
// one out ([ErrLockLost]).
func (m *Manager) act(ctx context.Context, fence int64, r Record, rep *Report) error {
	now := m.nowUTC()
	plan := m.policy.planRecord(r)
	for _, st := range plan.Steps {
		if st.Action == Erase && r.Hold.Reason != "" && !st.Due.After(now) && !st.Estimated {
			rep.Held++
			continue
		}
		if !st.actionable(now) {
			continue
		}
		if !m.budget(rep) {
			return nil
		}
		var err error
		switch st.Action {
		case Warn:
			err = m.warn(ctx, fence, r, st)
			if err == nil {
				rep.Warned++
			}
		case Suspend, Close:
			err = m.account(ctx, fence, r, st)
			if err == nil && st.Action == Suspend {
				rep.Suspended++
			} else if err == nil {
				rep.Closed++
			}
		case Erase:
			_, err = m.erase(ctx, Erasure{Subject: r.ID, Rule: st.Rule, SubjectVersion: r.Version}, fence)
			if err == nil {
				rep.Erased++
			}
		}
		switch {
		case err == nil:
			rep.Acted++
		case superseded(err):
			m.fail(ctx, rep, r.ID, st.Rule, st.Action, err)
			return lost(err)
		case errors.Is(err, ErrChanged) || errors.Is(err, ErrErased) || errors.Is(err, ErrNotFound):
			// The host changed the subject meanwhile: the plan is stale,
			// and the next run replans. Not a failure.
			return nil
		case errors.Is(err, ErrOnHold):
			rep.Held++
			return nil
		default:
			m.fail(ctx, rep, r.ID, st.Rule, st.Action, err)
			return nil
		}
		if st.Action == Erase {
			return nil
		}
	}
	return nil
}

func (m *Manager) warn(ctx context.Context, fence int64, r Record, st Step) error {
	due := st.Due
	for _, s := range m.policy.planRecord(r).Steps {
		if s.Rule == st.Rule && s.Action == st.Warns {
			due = s.Due
		}
	}
	if m.cfg.Notifier != nil {
		if err := guard(ctx); err != nil {
			return err
		}
		if err := m.cfg.Notifier.Notify(ctx, Notice{Subject: r.ID, Action: st.Warns, Rule: st.Rule, Due: due, Key: st.Key}); err != nil {
			return err
		}
	}
	if err := m.store.MarkAction(ctx, r.ID, r.Version, Mark{Action: Warn, Key: st.Key, At: m.nowUTC(), Fence: fence}); err != nil {
		return err
	}
	m.emit(ctx, Event{Type: EventWarned, Subject: r.ID, Rule: st.Rule, Action: st.Warns})
	return nil
}

func (m *Manager) account(ctx context.Context, fence int64, r Record, st Step) error {
	if m.cfg.Actor != nil {
		if err := guard(ctx); err != nil {
			return err
		}
		f := m.cfg.Actor.Suspend
		if st.Action == Close {
			f = m.cfg.Actor.Close
		}
		if err := f(ctx, r.ID); err != nil {
			return err
		}
	}
	if err := m.store.MarkAction(ctx, r.ID, r.Version, Mark{Action: st.Action, At: m.nowUTC(), Fence: fence}); err != nil {
		return err
	}
	kind := EventSuspended
	if st.Action == Close {
		kind = EventClosed
	}
	m.emit(ctx, Event{Type: kind, Subject: r.ID, Rule: st.Rule})
	return nil
}

func (m *Manager) fail(ctx context.Context, rep *Report, subject, rule string, a Action, err error) {
	rep.Failed++
	// The error may come from host code; log its text at Warn for the
	// operator, but never put it in an Event.
	m.log.LogAttrs(ctx, slog.LevelWarn, "retention action failed",
		slog.String("subject", subject), slog.String("rule", rule), slog.String("action", string(a)), slog.String("error", err.Error()))
	m.emit(ctx, Event{Type: EventFailed, Subject: subject, Rule: rule, Action: a})
}

// held is the hold check given to every [Purger].
func (m *Manager) held(ctx context.Context, subject string) (bool, error) {
	r, err := m.store.GetSubject(ctx, subject)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return true, err
	}
	return r.Hold.Reason != "", nil
}

func (m *Manager) purge(ctx context.Context, rep *Report) error {
	regs := m.registered()
	now := m.nowUTC()
	for _, c := range m.policy.Categories {
		var p Purger
		for _, reg := range regs {
			if reg.category == c.Name {
				p, _ = reg.e.(Purger)
			}
		}
		if p == nil {
			m.fail(ctx, rep, "", c.Name, Erase, fmt.Errorf("category %s has a retention period but no Purger is registered", c.Name))
			continue
		}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !m.budget(rep) {
				return nil
			}
			if err := guard(ctx); err != nil {
				m.fail(ctx, rep, "", c.Name, Erase, err)
				return err
			}
			n, err := p.Purge(ctx, now.Add(-c.Retain), m.batch, m.held)
			if err != nil {
				m.fail(ctx, rep, "", c.Name, Erase, err)
				break
			}
			rep.Purged += n
			rep.Acted++
			if n < m.batch {
				break
			}
		}
	}
	return nil
}

// superseded reports whether err says that a newer lock holder exists: the
// lock was lost, or the store refused a stale fencing token. A run stops
// there rather than go on failing.
func superseded(err error) bool {
	return errors.Is(err, ErrLockLost) || errors.Is(err, ErrFenced)
}

// lost returns err so that it matches [ErrLockLost].
func lost(err error) error {
	if errors.Is(err, ErrLockLost) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrLockLost, err)
}

// leaseKey carries the [Lease] of a [Scheduler] run in its context, for
// guard.
type leaseKey struct{}

// guard proves, before each call into host code (Notifier, Actor,
// Shredder, Eraser, Recorder, Purger), that a run under a scheduler lock
// still holds it. A run that has lost its lock (its PostgreSQL connection
// died, its Redis TTL passed, another instance took over) stops there with
// [ErrLockLost] instead of running host code beside the new holder. Runs
// without a lease (Manager.Run called directly, Manager.Erase) pass.
func guard(ctx context.Context) error {
	l, ok := ctx.Value(leaseKey{}).(Lease)
	if !ok {
		return nil
	}
	if err := l.Check(ctx); err != nil {
		return lost(err)
	}
	return nil
}

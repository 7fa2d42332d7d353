package retention

import (
	"slices"
	"strconv"
	"time"
)

// Step is one action in a subject's plan.
type Step struct {
	// Rule is the rule the step comes from. Automatic warnings carry the
	// name of the rule they warn about.
	Rule string
	// Action is what will happen.
	Action Action
	// Warns is, for a Warn step, the action it warns about.
	Warns Action
	// Due is when it will happen (at the earliest run at or after Due).
	Due time.Time
	// Estimated says Due counts from an action that has not happened yet
	// (for example an erasure 7 days after a closure still to come).
	Estimated bool
	// Done is when it happened; zero if it has not.
	Done time.Time
	// Blocked says why the step will not happen, e.g. "legal hold: ...".
	Blocked string
	// Key identifies a warning, so it is sent once.
	Key string
}

// SubjectPlan is what will happen to one subject, and when.
type SubjectPlan struct {
	// Subject is the subject's id.
	Subject string
	// State is its current state.
	State string
	// Version is the record version the plan was made from.
	Version int64
	// Steps are sorted by Due, then by action.
	Steps []Step
	// Hold is the legal hold reason, if any.
	Hold string
	// Erased is when the subject was erased; then there are no steps.
	Erased time.Time
	// Receipt is the erasure receipt id once erased.
	Receipt string
}

// NextErasure returns the step that erases the subject, if the policy has
// one for its state: what a "when will my data be deleted?" page shows.
func (p SubjectPlan) NextErasure() (Step, bool) {
	for _, s := range p.Steps {
		if s.Action == Erase {
			return s, true
		}
	}
	return Step{}, false
}

// planRecord evaluates the policy for one record. It never does I/O.
func (p Policy) planRecord(r Record) SubjectPlan { return p.planInto(r, nil) }

// planInto is planRecord appending the steps to buf[:0], so a caller that
// plans many subjects reuses one buffer.
func (p Policy) planInto(r Record, buf []Step) SubjectPlan {
	sp := SubjectPlan{Subject: r.ID, State: r.State, Version: r.Version, Hold: r.Hold.Reason, Erased: r.Erased, Receipt: r.Receipt}
	if !r.Erased.IsZero() {
		return sp
	}
	// Projected times of this state's suspend and close, for rules
	// anchored on them.
	var suspendDue, closeDue time.Time
	for _, rule := range p.Rules {
		if rule.State != r.State || rule.Anchor == AnchorSuspended || rule.Anchor == AnchorClosed {
			continue
		}
		due := r.anchor(rule.Anchor).Add(rule.After)
		switch rule.Action {
		case Suspend:
			if suspendDue.IsZero() || due.Before(suspendDue) {
				suspendDue = due
			}
		case Close:
			if closeDue.IsZero() || due.Before(closeDue) {
				closeDue = due
			}
		}
	}
	wb := p.warnBefore()
	n := 0
	for _, rule := range p.Rules {
		if rule.State == r.State {
			n++
		}
	}
	if n == 0 {
		return sp
	}
	if buf == nil {
		buf = make([]Step, 0, 2*n)
	}
	sp.Steps = buf[:0]
	held := ""
	if r.Hold.Reason != "" {
		held = "legal hold: " + r.Hold.Reason
	}
	for _, rule := range p.Rules {
		if rule.State != r.State {
			continue
		}
		var base time.Time
		est := false
		switch rule.Anchor {
		case AnchorSuspended:
			base, est = r.Suspended, r.Suspended.IsZero()
			if est {
				base = suspendDue
			}
		case AnchorClosed:
			base, est = r.Closed, r.Closed.IsZero()
			if est {
				base = closeDue
			}
		default:
			base = r.anchor(rule.Anchor)
		}
		st := Step{Rule: rule.Name, Action: rule.Action, Due: base.Add(rule.After), Estimated: est}
		switch rule.Action {
		case Suspend:
			st.Done = r.Suspended
		case Close:
			st.Done = r.Closed
		case Warn:
			st.Key = warnKey(rule.Name, base)
			if slices.Contains(r.Warned, st.Key) {
				st.Done = st.Due
			}
			st.Warns = Warn
		}
		if r.Hold.Reason != "" && (rule.Action == Erase || rule.Action == Warn) {
			st.Blocked = held
		} else if !est && base.IsZero() {
			// A record without the time the rule counts from is
			// malformed: the zero time is not "long ago", so nothing
			// irreversible is done on it (fail closed).
			st.Blocked = "no " + string(rule.anchorOrSince()) + " time recorded for the subject"
		}
		if wb > 0 && !rule.Quiet && (rule.Action == Suspend || rule.Action == Erase) {
			w := Step{Rule: rule.Name, Action: Warn, Warns: rule.Action, Due: st.Due.Add(-wb), Estimated: est, Blocked: st.Blocked, Key: warnKey(rule.Name, base)}
			if w.Due.Before(base) {
				w.Due = base
			}
			if slices.Contains(r.Warned, w.Key) || !st.Done.IsZero() {
				w.Done = w.Due
			}
			// The warning goes before its action: the steps are then
			// mostly generated in order, and the sort below has nothing
			// to move. (A warning never ties with its action: it ranks
			// first.)
			sp.Steps = append(sp.Steps, w)
		}
		sp.Steps = append(sp.Steps, st)
	}
	if !slices.IsSortedFunc(sp.Steps, stepOrder) {
		slices.SortStableFunc(sp.Steps, stepOrder)
	}
	return sp
}

// stepOrder sorts steps by due time; what counts from an action that has
// not happened yet comes after the steps that do not; then warnings,
// suspensions, closures, erasures.
func stepOrder(a, b Step) int {
	if c := a.Due.Compare(b.Due); c != 0 {
		return c
	}
	if a.Estimated != b.Estimated {
		// What counts from an action comes after that action.
		if a.Estimated {
			return 1
		}
		return -1
	}
	return a.Action.rank() - b.Action.rank()
}

func (r Record) anchor(a Anchor) time.Time {
	// Inactivity counts within the current state: the later of the last
	// activity and entering the state.
	if a == AnchorLastActive && r.LastActive.After(r.Since) {
		return r.LastActive
	}
	return r.Since
}

// warnKey identifies one warning: the rule and the anchor it counts from,
// so a new inactivity period or a new state gets a new warning.
func warnKey(rule string, anchor time.Time) string {
	// One allocation: the key is built on the stack, then copied.
	var buf [96]byte
	b := append(buf[:0], rule...)
	b = append(b, '@')
	return string(strconv.AppendInt(b, anchor.UnixMicro(), 10))
}

// actionable reports whether s should be carried out at now.
func (s Step) actionable(now time.Time) bool {
	return s.Done.IsZero() && !s.Estimated && s.Blocked == "" && !s.Due.After(now)
}

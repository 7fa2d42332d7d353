package retention

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Action is what a [Rule] does to a subject when it falls due.
type Action string

// The actions, in the order they are taken when several fall due together.
const (
	// Warn tells the subject, through the [Notifier], what is about to
	// happen. Warnings are also derived automatically before every suspend
	// and erase rule (see [Policy.WarnBefore]).
	Warn Action = "warn"
	// Suspend asks the host's [Actor] to suspend the account.
	Suspend Action = "suspend"
	// Close asks the host's [Actor] to close the account.
	Close Action = "close"
	// Erase runs every registered [Eraser], crypto-shreds the subject's key
	// and records a [Receipt]. It is irreversible.
	Erase Action = "erase"
)

func (a Action) rank() int {
	switch a {
	case Warn:
		return 0
	case Suspend:
		return 1
	case Close:
		return 2
	case Erase:
		return 3
	}
	return -1
}

// Anchor names the timestamp a [Rule]'s delay counts from.
type Anchor string

const (
	// AnchorSince counts from [Subject.Since], when the subject entered
	// its current state. It is the default.
	AnchorSince Anchor = "since"
	// AnchorLastActive counts from the later of [Subject.LastActive] and
	// Since: inactivity within the current state.
	AnchorLastActive Anchor = "last_active"
	// AnchorSuspended counts from when this package suspended the subject.
	AnchorSuspended Anchor = "suspended"
	// AnchorClosed counts from when this package closed the subject.
	AnchorClosed Anchor = "closed"
)

// Rule maps a subject's state and one of its timestamps to an action with a
// due date: a subject in State is due for Action at anchor + After.
type Rule struct {
	// Name identifies the rule in plans, receipts and events: 1–64 of
	// a–z, 0–9, '.', '_', '-', starting with a letter or digit.
	Name string
	// State is the host's account state the rule applies to.
	State string
	// Anchor is the timestamp the delay counts from; "" means AnchorSince.
	Anchor Anchor
	// After is the delay from the anchor; 0 means at once.
	After time.Duration
	// Action is what happens when the rule falls due.
	Action Action
	// Quiet suppresses the automatic warning before this rule's action,
	// for example when the subject asked for the erasure themselves.
	Quiet bool
}

func (r Rule) anchorOrSince() Anchor {
	if r.Anchor == "" {
		return AnchorSince
	}
	return r.Anchor
}

// Category is a kind of data the host keeps (audit events, sessions,
// exports, ...) with its own retention period.
type Category struct {
	// Name matches the category an [Eraser] is registered under; same
	// syntax as [Rule.Name].
	Name string
	// Retain is how long records of this category are kept. Each run asks
	// the category's [Purger] to delete records older than now - Retain.
	Retain time.Duration
}

// Policy is a complete set of lifecycle rules, as data: build it in Go, or
// load it from JSON with [encoding/json] (see [Policy.UnmarshalJSON]).
type Policy struct {
	// Name labels the policy in reports.
	Name string
	// Rules are the lifecycle rules; a subject matches every rule of its
	// state.
	Rules []Rule
	// WarnBefore is how long before each suspend or erase the subject is
	// warned. Zero means the default, a week, as the lifecycle in issue 9
	// asks: it gives the user time to export a copy (GDPR art. 20) or
	// object. A negative value turns automatic warnings off.
	WarnBefore time.Duration
	// Categories sets per-category retention periods.
	Categories []Category
}

// defaultWarnBefore is [Policy.WarnBefore]'s default; its doc gives the
// reason.
const defaultWarnBefore = 7 * 24 * time.Hour

// Limits on policies, so a policy loaded from a file stays sane.
const (
	maxRules      = 256
	maxCategories = 256
	maxDelay      = 100 * 365 * 24 * time.Hour // a century
	maxPolicyJSON = 1 << 20
)

// States used by the [SaaSLifecycle] policy. Hosts may use any state
// names in their own policies.
const (
	StateTrialExpired      = "trial_expired"
	StateCancelled         = "cancelled"
	StatePaymentFailed     = "payment_failed"
	StateFree              = "free"
	StateDeletionRequested = "deletion_requested"
)

// presetSaaSLifecycle names [SaaSLifecycle] in a policy document's
// "preset" field.
const presetSaaSLifecycle = "saas-lifecycle"

const day = 24 * time.Hour

// SaaSLifecycle returns the lifecycle policy most SaaS products promise,
// named "saas-lifecycle" (the name a policy document's "preset" field
// takes). It is the policy of a zero [Config]:
//
//   - a trial that ended without a subscription (state trial_expired) is
//     erased 12 days after it ended;
//   - a cancelled paid account is erased 90 days after cancellation;
//   - after a payment failure the account is suspended after 14 days (so,
//     with a daily or more frequent scheduler, within 15 days), closed after
//     90 days, and erased 7 days after closure;
//   - a free account is erased after 60 days of inactivity;
//   - an account whose owner asked for deletion ("Adios") is erased at once,
//     without a warning.
//
// Warnings go out 7 days before each suspension and erasure.
func SaaSLifecycle() Policy {
	return Policy{
		Name: presetSaaSLifecycle,
		Rules: []Rule{
			{Name: "trial-expired-erase", State: StateTrialExpired, After: 12 * day, Action: Erase},
			{Name: "cancelled-erase", State: StateCancelled, After: 90 * day, Action: Erase},
			{Name: "payment-failed-suspend", State: StatePaymentFailed, After: 14 * day, Action: Suspend},
			{Name: "payment-failed-close", State: StatePaymentFailed, After: 90 * day, Action: Close},
			{Name: "payment-failed-erase", State: StatePaymentFailed, Anchor: AnchorClosed, After: 7 * day, Action: Erase},
			{Name: "free-inactive-erase", State: StateFree, Anchor: AnchorLastActive, After: 60 * day, Action: Erase},
			{Name: "deletion-requested-erase", State: StateDeletionRequested, Action: Erase, Quiet: true},
		},
		WarnBefore: defaultWarnBefore,
	}
}

// Problem is one reason a [Policy] is invalid.
type Problem struct {
	// Path locates the field, e.g. "rules[2].after".
	Path string
	// Code is stable, for programs: "required", "syntax", "duplicate",
	// "unknown", "range", "anchor".
	Code string
	// Message is for people.
	Message string
}

// PolicyError lists every problem found in a policy. [Policy.UnmarshalJSON],
// [Policy.Validate] and [New] return it (wrapped errors.As finds it).
type PolicyError struct {
	Problems []Problem
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("retention: invalid policy")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Path + ": " + p.Message)
	}
	return b.String()
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks the policy and returns a *[PolicyError] listing every
// problem, or nil.
func (p Policy) Validate() error {
	var probs []Problem
	add := func(path, code, format string, args ...any) {
		probs = append(probs, Problem{Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if len(p.Rules) > maxRules {
		add("rules", "range", "at most %d rules", maxRules)
	}
	if len(p.Categories) > maxCategories {
		add("categories", "range", "at most %d categories", maxCategories)
	}
	if p.WarnBefore > maxDelay {
		add("warn_before", "range", "at most 100 years")
	}
	names := map[string]bool{}
	has := map[string]bool{} // state + "/" + action
	for _, r := range p.Rules {
		has[r.State+"/"+string(r.Action)] = true
	}
	for i, r := range p.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "":
			add(path+".name", "required", "name is required")
		case !namePattern.MatchString(r.Name):
			add(path+".name", "syntax", "name must be 1-64 of a-z, 0-9, '.', '_', '-'")
		case names[r.Name]:
			add(path+".name", "duplicate", "rule name %q is used twice", r.Name)
		}
		names[r.Name] = true
		if r.State == "" {
			add(path+".state", "required", "state is required")
		} else if len(r.State) > 64 {
			add(path+".state", "range", "state is longer than 64 bytes")
		}
		if r.Action.rank() < 0 {
			add(path+".action", "unknown", "action must be warn, suspend, close or erase")
		}
		if r.After < 0 || r.After > maxDelay {
			add(path+".after", "range", "after must be between 0 and 100 years")
		}
		switch r.Anchor {
		case "", AnchorSince, AnchorLastActive:
		case AnchorSuspended, AnchorClosed:
			want := Suspend
			if r.Anchor == AnchorClosed {
				want = Close
			}
			if !has[r.State+"/"+string(want)] {
				add(path+".anchor", "anchor", "anchor %q needs a %s rule for state %q", r.Anchor, want, r.State)
			}
			if r.Action != Warn && r.Action.rank() >= 0 && r.Action.rank() <= want.rank() {
				add(path+".anchor", "anchor", "a %s rule cannot count from %q", r.Action, r.Anchor)
			}
		default:
			add(path+".anchor", "unknown", "anchor must be since, last_active, suspended or closed")
		}
	}
	cats := map[string]bool{}
	for i, c := range p.Categories {
		path := fmt.Sprintf("categories[%d]", i)
		switch {
		case !namePattern.MatchString(c.Name):
			add(path+".name", "syntax", "name must be 1-64 of a-z, 0-9, '.', '_', '-'")
		case cats[c.Name]:
			add(path+".name", "duplicate", "category %q is listed twice", c.Name)
		}
		cats[c.Name] = true
		if c.Retain <= 0 || c.Retain > maxDelay {
			add(path+".retain", "range", "retain must be more than 0 and at most 100 years")
		}
	}
	if len(probs) > 0 {
		return &PolicyError{Problems: probs}
	}
	return nil
}

// jsonDuration is a time.Duration in JSON: a string such as "90d", "12d",
// "36h" or "1h30m" (Go syntax plus a "d" suffix for whole days).
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(time.Duration(d)))
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("duration must be a string such as \"90d\" or \"36h\"")
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = jsonDuration(v)
	return nil
}

// FormatDuration writes d as "<n>d" when it is a whole number of days, and
// in Go syntax otherwise.
func FormatDuration(d time.Duration) string {
	if d != 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// parseDuration reads "<n>d" (whole days) or Go duration syntax. It rejects
// negative values and values above 100 years.
func parseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v < 0 || v > int64(maxDelay/day) || (n != "0" && strings.HasPrefix(n, "0")) || strings.HasPrefix(n, "+") {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = time.Duration(v) * day
	} else {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = v
	}
	if d < 0 || d > maxDelay {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	return d, nil
}

type jsonRule struct {
	Name   string       `json:"name"`
	State  string       `json:"state"`
	Anchor Anchor       `json:"anchor,omitempty"`
	After  jsonDuration `json:"after"`
	Action Action       `json:"action"`
	Quiet  bool         `json:"quiet,omitempty"`
}

type jsonCategory struct {
	Name   string       `json:"name"`
	Retain jsonDuration `json:"retain"`
}

type jsonPolicy struct {
	Name       string         `json:"name,omitempty"`
	Preset     string         `json:"preset,omitempty"`
	Rules      []jsonRule     `json:"rules,omitempty"`
	WarnBefore *jsonDuration  `json:"warn_before,omitempty"`
	NoWarnings bool           `json:"no_warnings,omitempty"`
	Categories []jsonCategory `json:"categories,omitempty"`
}

// MarshalJSON writes the policy in the form [Policy.UnmarshalJSON] reads.
func (p Policy) MarshalJSON() ([]byte, error) {
	j := jsonPolicy{Name: p.Name}
	for _, r := range p.Rules {
		j.Rules = append(j.Rules, jsonRule{Name: r.Name, State: r.State, Anchor: r.Anchor, After: jsonDuration(r.After), Action: r.Action, Quiet: r.Quiet})
	}
	switch {
	case p.WarnBefore < 0:
		j.NoWarnings = true
	case p.WarnBefore > 0:
		wb := jsonDuration(p.WarnBefore)
		j.WarnBefore = &wb
	}
	for _, c := range p.Categories {
		j.Categories = append(j.Categories, jsonCategory{Name: c.Name, Retain: jsonDuration(c.Retain)})
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a policy from JSON, so that json.Unmarshal loads one
// and a Policy can sit in the host's own JSON configuration. It is strict:
// unknown fields, trailing data, documents over 1 MiB and invalid values
// are rejected. Syntax errors are returned as they are; a well-formed but
// invalid policy gives a *[PolicyError] listing every problem. The
// document looks like:
//
//	{
//	  "name": "acme",
//	  "preset": "saas-lifecycle",          // optional: start from a preset
//	  "rules": [                            // appended to the preset's
//	    {"name": "dormant-erase", "state": "dormant", "anchor": "last_active",
//	     "after": "365d", "action": "erase"}
//	  ],
//	  "warn_before": "14d",                 // or "no_warnings": true
//	  "categories": [{"name": "sessions", "retain": "30d"}]
//	}
func (p *Policy) UnmarshalJSON(data []byte) error {
	v, err := parsePolicy(data)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// parsePolicy is [Policy.UnmarshalJSON]'s work.
func parsePolicy(data []byte) (Policy, error) {
	if len(data) > maxPolicyJSON {
		return Policy{}, errors.New("retention: policy document larger than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j jsonPolicy
	if err := dec.Decode(&j); err != nil {
		return Policy{}, fmt.Errorf("retention: policy JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Policy{}, errors.New("retention: policy JSON: trailing data after the document")
	}
	var p Policy
	if j.Preset != "" {
		if j.Preset != presetSaaSLifecycle {
			return Policy{}, &PolicyError{Problems: []Problem{{Path: "preset", Code: "unknown", Message: fmt.Sprintf("unknown preset %q", j.Preset)}}}
		}
		p = SaaSLifecycle()
	}
	if j.Name != "" {
		p.Name = j.Name
	}
	for _, r := range j.Rules {
		p.Rules = append(p.Rules, Rule{Name: r.Name, State: r.State, Anchor: r.Anchor, After: time.Duration(r.After), Action: r.Action, Quiet: r.Quiet})
	}
	if j.WarnBefore != nil && j.NoWarnings {
		return Policy{}, &PolicyError{Problems: []Problem{{Path: "no_warnings", Code: "duplicate", Message: "warn_before and no_warnings exclude each other"}}}
	}
	if j.WarnBefore != nil {
		p.WarnBefore = time.Duration(*j.WarnBefore)
	}
	if j.NoWarnings {
		p.WarnBefore = -1
	}
	for _, c := range j.Categories {
		p.Categories = append(p.Categories, Category{Name: c.Name, Retain: time.Duration(c.Retain)})
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func (p Policy) warnBefore() time.Duration {
	if p.WarnBefore == 0 {
		return defaultWarnBefore
	}
	return p.WarnBefore
}

package bulwark

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
)

// Event is what any package reported, in one shape, for [Config.Hook]. It
// is also what the audit log records: Type becomes the action. It never
// carries a password, token, code, hash or key material.
type Event struct {
	// Type is the reporting package's event type, "<package>.<verb>":
	// "auth.login", "session.created", "mfa.confirmed", "keyring.key_added",
	// "password.breached", ...
	Type    string
	Outcome audit.Outcome // success, failure or denied
	Time    time.Time
	UserID  string // the user concerned, "" when none
	Actor   string // who acted: the user, an administrator, or "system"
	// IP and UserAgent are the client's, when the event happened while
	// serving a request through [Bulwark.Handler] (or auth's flows).
	IP        string
	UserAgent string
	// Details refine the event: "reason", "factor", "session_id",
	// "key_id", "count", ...
	Details map[string]string
}

// client is what the handlers know about the request, for events of
// packages that do not see it.
type client struct{ ip, userAgent string }

type clientKey struct{}

func withClient(ctx context.Context, c client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// record writes e to the audit log (unless audited is set: auth's events
// are written by its Auditor, which fails the flow when the write fails)
// and passes it to the host's hook.
func (b *Bulwark) record(ctx context.Context, e Event, audited bool) {
	if c, ok := ctx.Value(clientKey{}).(client); ok {
		if e.IP == "" {
			e.IP = c.ip
		}
		if e.UserAgent == "" {
			e.UserAgent = c.userAgent
		}
	}
	if e.Outcome == "" {
		e.Outcome = audit.Success
	}
	if e.Time.IsZero() {
		e.Time = b.cfg.Now().UTC()
	}
	if !audited {
		ev := audit.Entry{Tenant: b.cfg.AuditStream, Actor: e.Actor, Action: e.Type, Outcome: e.Outcome,
			IP: e.IP, UserAgent: e.UserAgent, Details: e.Details}
		if e.UserID != "" {
			ev.TargetType, ev.TargetID = "user", e.UserID
		}
		if e.Actor == "system" {
			ev.ActorType = audit.ActorSystem
		}
		if _, err := b.Audit.Append(ctx, ev); err != nil {
			b.fail(ctx, fmt.Errorf("bulwark: audit %s: %w", e.Type, err))
		}
	}
	if b.cfg.Hook != nil {
		b.cfg.Hook(ctx, e)
	}
}

// details builds a details map from key, value pairs, leaving out empty
// values; nil when all are empty.
func details(kv ...string) map[string]string {
	var m map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// One hook per package below: each is the only place that reads that
// package's Event.

// hookedAuditor writes auth's events to the audit log and, only once
// written, passes them to Config.Hook: an event whose write failed fails
// auth's step (a refused login), and the host must not hear of it as done.
type hookedAuditor struct {
	a auth.Auditor
	b *Bulwark
}

func (h hookedAuditor) Audit(ctx context.Context, e auth.Event) error {
	if err := h.a.Audit(ctx, e); err != nil {
		return err
	}
	h.b.authHook(ctx, e)
	return nil
}

func (b *Bulwark) authHook(ctx context.Context, e auth.Event) {
	b.record(ctx, Event{Type: string(e.Type), Outcome: audit.Outcome(e.Outcome), Time: e.Time, UserID: e.UserID,
		Actor: e.Actor, IP: e.IP, UserAgent: e.UserAgent, Details: details("reason", e.Reason)}, true)
}

func (b *Bulwark) sessionHook(ctx context.Context, e session.Event) {
	out := audit.Success
	if e.Type == session.EventLimitDenied || e.Type == session.EventRememberReuse {
		out = audit.Denied
	}
	count := ""
	if e.Type == session.EventRevokedAll {
		count = strconv.Itoa(e.Count)
	}
	b.record(ctx, Event{Type: string(e.Type), Outcome: out, Time: e.Time, UserID: e.UserID,
		Actor: e.UserID, Details: details("session_id", e.SessionID, "count", count)}, false)
}

func (b *Bulwark) mfaHook(ctx context.Context, e mfa.Event) {
	out := audit.Success
	switch e.Type {
	case mfa.EventFailed, mfa.EventReplayed:
		out = audit.Failure
	case mfa.EventLocked:
		out = audit.Denied
	}
	b.record(ctx, Event{Type: string(e.Type), Outcome: out, Time: e.Time, UserID: e.UserID,
		Actor: e.UserID, Details: details("factor", string(e.Factor), "purpose", string(e.Purpose), "reason", e.Reason)}, false)
}

func (b *Bulwark) keyringHook(ctx context.Context, e keyring.Event) {
	out := audit.Success
	if e.Type == keyring.EventUsageFlushFailed {
		out = audit.Failure
	}
	key := ""
	if e.KeyID != 0 {
		key = strconv.FormatUint(uint64(e.KeyID), 10)
	}
	b.record(ctx, Event{Type: string(e.Type), Outcome: out, Time: e.Time, Actor: "system",
		Details: details("key_id", key, "subject", e.Subject)}, false)
}

func (b *Bulwark) passwordHook(ctx context.Context, e password.Event) {
	out := audit.Failure
	switch e.Type {
	case password.EventBreachedPassword:
		out = audit.Denied
	case password.EventLegacyVerified:
		out = audit.Success
	}
	// e.Err is left out: a breach service's error may carry a URL or a
	// hash prefix.
	b.record(ctx, Event{Type: string(e.Type), Outcome: out, Time: e.Time, Actor: "system",
		Details: details("algorithm", e.Algorithm)}, false)
}

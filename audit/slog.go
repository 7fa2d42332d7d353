package audit

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
)

// Attribute keys the slog bridge maps onto [Entry] fields. Any other
// attribute becomes a Details entry (redacted like any detail), with group
// names joined by dots.
const (
	slogAction     = "audit.action"
	slogTenant     = "audit.tenant"
	slogActor      = "audit.actor"
	slogTargetType = "audit.target_type"
	slogTargetID   = "audit.target_id"
	slogOutcome    = "audit.outcome"
	slogIP         = "audit.ip"
	slogUserAgent  = "audit.user_agent"
	slogRequestID  = "audit.request_id"
)

// SlogOptions configures [Log.SlogHandler].
type SlogOptions struct {
	// Select chooses which records are written. Default: records carrying
	// an audit.action attribute, so ordinary logging passes by untouched.
	Select func(ctx context.Context, r slog.Record) bool
	// Level is the minimum level handled. Default slog.LevelDebug (all).
	Level slog.Leveler
}

type slogHandler struct {
	log    *Log
	opts   SlogOptions
	attrs  []slog.Attr // pre-resolved, keys already group-qualified
	groups string
}

// SlogHandler returns an slog.Handler that writes chosen log records into
// the audit log: the message goes to Details["msg"], the level to
// Details["level"], the attributes audit.action, audit.tenant,
// audit.actor, audit.target_type, audit.target_id, audit.outcome,
// audit.ip, audit.user_agent and audit.request_id to the matching Entry
// fields, and any other attribute to Details (redacted like any detail),
// with group names joined by dots. Records without a valid audit.action
// get the action "log.message". Handle returns the
// append error and also reports it to Config.OnError, because slog.Logger
// discards handler errors: writing through slog cannot make the logged
// action fail, so call [Log.Append] for actions that must fail closed.
// Combine the handler with the host's normal handler, for example with
// slog.NewMultiHandler, to keep ordinary logs.
func (l *Log) SlogHandler(opts SlogOptions) slog.Handler {
	if opts.Select == nil {
		opts.Select = func(_ context.Context, r slog.Record) bool {
			found := false
			r.Attrs(func(a slog.Attr) bool {
				found = a.Key == slogAction
				return !found
			})
			return found
		}
	}
	if opts.Level == nil {
		opts.Level = slog.LevelDebug
	}
	return &slogHandler{log: l, opts: opts}
}

func (h *slogHandler) Enabled(_ context.Context, lvl slog.Level) bool {
	return lvl >= h.opts.Level.Level()
}

func (h *slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr{}, h.attrs...), qualify(h.groups, as)...)
	return &h2
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = h.groups + name + "."
	return &h2
}

func qualify(prefix string, as []slog.Attr) []slog.Attr {
	var out []slog.Attr
	for _, a := range as {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			p := prefix
			if a.Key != "" {
				p += a.Key + "."
			}
			out = append(out, qualify(p, v.Group())...)
			continue
		}
		if a.Key == "" {
			continue
		}
		out = append(out, slog.Attr{Key: prefix + a.Key, Value: v})
	}
	return out
}

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.opts.Select(ctx, r) {
		return nil
	}
	ev := Entry{Time: r.Time, Details: map[string]string{"msg": r.Message, "level": r.Level.String()}}
	attrs := append([]slog.Attr{}, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, qualify(h.groups, []slog.Attr{a})...)
		return true
	})
	for _, a := range attrs {
		v := slogString(a.Value)
		switch strings.TrimPrefix(a.Key, h.groups) {
		case slogAction:
			ev.Action = v
		case slogTenant:
			ev.Tenant = v
		case slogActor:
			ev.Actor = v
		case slogTargetType:
			ev.TargetType = v
		case slogTargetID:
			ev.TargetID = v
		case slogOutcome:
			ev.Outcome = Outcome(v)
		case slogIP:
			ev.IP = v
		case slogUserAgent:
			ev.UserAgent = v
		case slogRequestID:
			ev.RequestID = v
		default:
			ev.Details[a.Key] = v
		}
	}
	if !validAction(ev.Action) {
		if ev.Action != "" {
			ev.Details["action"] = ev.Action
		}
		ev.Action = actionLogMessage
	}
	if _, err := h.log.Append(ctx, ev); err != nil {
		err = fmt.Errorf("audit: slog bridge: %w", err)
		h.log.report(ctx, err) // with FailOpen a store error never gets here
		return err
	}
	return nil
}

// slogString renders an attribute value. A struct, map or slice logged as
// one value goes through the same walker as [Diff], so audit tags and
// sensitive field names and map keys inside it are honoured: the redactor
// only sees the attribute's own key.
func slogString(v slog.Value) string {
	if v.Kind() != slog.KindAny {
		return v.String()
	}
	switch x := v.Any().(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	var b strings.Builder
	renderNested(&b, reflect.ValueOf(v.Any()), 0)
	return b.String()
}

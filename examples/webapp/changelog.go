package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// historyEntry is one audited event, as the pages show it.
type historyEntry struct {
	Time      time.Time
	Actor     string
	IP        string
	UserAgent string
	Action    string
	Outcome   string
	Reason    string
	Changes   []audit.Change
}

// recordClientChange makes a change of a client (before nil: created;
// after nil: deleted) and logs it with its field diff and the client's IP,
// in one database transaction: write runs on a db bound to it, then the
// record is appended inside it (audit.Log.AppendTx), then it commits. So
// the change and its record are both kept or both gone: a write that
// fails, a record that cannot be logged (fail closed, ASVS 16.5.3) or a
// request cancelled before the commit leaves neither, and the log never
// shows a change that did not happen. A write that fails is logged as a
// failure, outside the rolled-back transaction.
func (a *App) recordClientChange(ctx context.Context, r *http.Request, before, after *Client, write func(db) error) error {
	var old, cur Client
	action, target := "client.updated", ""
	switch {
	case before == nil:
		action, cur, target = "client.created", *after, after.ID
	case after == nil:
		action, old, target = "client.deleted", *before, before.ID
	default:
		old, cur, target = *before, *after, after.ID
	}
	changes, err := audit.Diff(old, cur) // Client's audit tags: notes redacted, ids skipped
	if err != nil {
		return err
	}
	if action == "client.updated" && len(changes) == 0 {
		return write(a.db) // nothing changed, nothing to log
	}
	ev := audit.Entry{
		Actor: sess(r).UserID, Action: action, TargetType: "client", TargetID: target,
		IP: a.cfg.ClientIP.String(r), UserAgent: r.UserAgent(), Changes: changes,
	}
	changeLog, ok := a.audit.Store().(sqlstore.AuditStore)
	if !ok {
		return errors.New("webapp: the change log is not in the app's database")
	}
	tx, err := a.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	inTx := a.db
	inTx.tx = tx
	if err := write(inTx); err != nil {
		_ = tx.Rollback()
		ev.Outcome, ev.Changes, ev.Details = audit.Outcome("error"), nil, map[string]string{"reason": "write_failed"}
		_, aerr := a.audit.Append(ctx, ev)
		return errors.Join(err, aerr)
	}
	// Appended last, right before the commit: the log's head stays locked
	// by this transaction only as long as it must.
	if _, err := a.audit.AppendTx(ctx, changeLog.Tx(tx), ev); err != nil {
		return err
	}
	return tx.Commit()
}

// clientHistory lists the changes of a client, newest first.
func (a *App) clientHistory(ctx context.Context, c Client) ([]historyEntry, error) {
	return a.history(ctx, audit.Filter{TargetType: "client", TargetID: c.ID, Limit: 50})
}

// securityActivity is what happened to the user's account: sign-ins,
// failed attempts (wrong passwords and codes), lockouts, password and
// factor changes, sessions ended by the user or an administrator.
func (a *App) securityActivity(ctx context.Context, userID string) ([]historyEntry, error) {
	return a.history(ctx, audit.Filter{TargetType: "user", TargetID: userID, Limit: 20})
}

// history runs an audit query and names the actors.
func (a *App) history(ctx context.Context, f audit.Filter) ([]historyEntry, error) {
	page, err := a.audit.Query(ctx, f)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]historyEntry, 0, len(page.Records))
	for _, rec := range page.Records {
		name, ok := names[rec.Actor]
		if !ok {
			name = rec.Actor
			if u, err := a.db.userByID(ctx, rec.Actor); err == nil {
				name = u.Username
			} else if rec.Actor == "" {
				name = "—"
			}
			names[rec.Actor] = name
		}
		out = append(out, historyEntry{
			Time: rec.Time, Actor: name, IP: rec.IP, UserAgent: rec.UserAgent, Action: rec.Action,
			Outcome: string(rec.Outcome), Reason: strings.ReplaceAll(rec.Details["reason"], "_", " "), Changes: rec.Changes,
		})
	}
	return out, nil
}

package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bulwarkhq/bulwark/audit"

	"github.com/bulwarkhq/bulwark/retention"
)

// adminOnly lets only the admin (the first account created) through.
func (a *App) adminOnly(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.db.userByID(r.Context(), sess(r).UserID)
		if err != nil || !u.IsAdmin {
			http.Error(w, "Only the administrator may see this page.", http.StatusForbidden)
			return
		}
		next(w, r)
	})
}

type adminUser struct {
	User     User
	Sessions int
	Next     retention.Step
	HasNext  bool
}

type adminData struct {
	Policy retention.Policy
	Users  []adminUser
	Query  auditQuery
	Found  []historyEntry
}

// auditQuery is the audit search form.
type auditQuery struct{ Action, Actor, IP string }

// adminPage shows the retention plan (the rules, and what is next for each
// user) and lets the admin end a user's sessions (ASVS 7.4.5) or start a
// password reset (the admin never sets or learns the password).
func (a *App) adminPage(w http.ResponseWriter, r *http.Request) {
	a.renderAdmin(w, r, view{})
}

func (a *App) renderAdmin(w http.ResponseWriter, r *http.Request, v view) {
	ctx := r.Context()
	users, err := a.db.listUsers(ctx)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	d := adminData{Policy: a.lifecycle.Policy()}
	for _, u := range users {
		au := adminUser{User: u}
		list, err := a.sessions.List(ctx, u.ID)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		au.Sessions = len(list)
		plans, err := a.lifecycle.Plan(ctx, u.ID)
		if err != nil && !errors.Is(err, retention.ErrNotFound) {
			a.internalError(w, r, err)
			return
		}
		if len(plans) == 1 && len(plans[0].Steps) > 0 {
			au.Next, au.HasNext = plans[0].Steps[0], true
		}
		d.Users = append(d.Users, au)
	}
	q := r.URL.Query()
	d.Query = auditQuery{Action: q.Get("action"), Actor: q.Get("actor"), IP: q.Get("ip")}
	f := audit.Filter{ActionPrefix: d.Query.Action, IP: d.Query.IP, Limit: 30}
	if d.Query.Actor != "" {
		// Search by login name: the log keeps user ids.
		u, err := a.db.userByLogin(ctx, d.Query.Actor)
		f.Actor = u.ID
		if err != nil {
			f.Actor = d.Query.Actor
		}
	}
	if d.Found, err = a.history(ctx, f); err != nil {
		a.internalError(w, r, err)
		return
	}
	v.Title, v.Data = "Administration", d
	a.render(w, r, http.StatusOK, "admin", v)
}

// adminEndSessions ends every session of a user (ASVS 7.4.5), audited
// with the administrator as the actor.
func (a *App) adminEndSessions(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("id")
	n, err := a.sessions.RevokeAll(r.Context(), user, "")
	if err == nil {
		_, err = a.audit.Append(r.Context(), audit.Entry{
			Actor: sess(r).UserID, Action: "admin.sessions.ended", TargetType: "user", TargetID: user,
			IP: a.cfg.ClientIP.String(r), UserAgent: r.UserAgent(), Details: map[string]string{"count": strconv.Itoa(n)},
		})
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v := view{Warning: "The user had no session to end."}
	if n > 0 {
		v = view{Notice: plural(n, "session") + " ended."}
	}
	a.renderAdmin(w, r, v)
}

func (a *App) adminReset(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.AdminStartReset(r.Context(), sess(r).UserID, r.PathValue("id"), a.client(r)); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderAdmin(w, r, view{Notice: a.mailNotice("A password reset link was sent to the user", readerOther)})
}

// adminVerify recomputes every hash chain of the audit log and checks the
// signed checkpoints: any edited, removed or reordered record is named.
func (a *App) adminVerify(w http.ResponseWriter, r *http.Request) {
	reports, err := a.audit.Verify(r.Context(), audit.VerifyOptions{AllStreams: true})
	if errors.Is(err, audit.ErrTampered) {
		a.renderAdmin(w, r, view{Error: "The audit log has been tampered with: " + err.Error()})
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	records, checkpoints := 0, 0
	for _, rep := range reports {
		records, checkpoints = records+rep.Records, checkpoints+rep.Checkpoints
	}
	a.renderAdmin(w, r, view{Notice: fmt.Sprintf("Audit log verified: %s and %s in %s, intact.",
		plural(records, "record"), plural(checkpoints, "signed checkpoint"), plural(len(reports), "chain"))})
}

// adminGrant gives another user the administrator role, audited with the
// administrator as the actor: how the last administrator hands the role
// over before deleting their account.
func (a *App) adminGrant(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("id")
	// Only a user who exists is audited as made an administrator; the
	// record still comes before the grant, so no grant goes unrecorded.
	_, err := a.db.userByID(r.Context(), user)
	if err == nil {
		_, err = a.audit.Append(r.Context(), audit.Entry{
			Actor: sess(r).UserID, Action: "admin.role.granted", TargetType: "user", TargetID: user,
			IP: a.cfg.ClientIP.String(r), UserAgent: r.UserAgent(),
		})
	}
	if err == nil {
		err = a.db.makeAdmin(r.Context(), user)
	}
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.renderAdmin(w, r, view{Notice: "The user is now an administrator."})
}

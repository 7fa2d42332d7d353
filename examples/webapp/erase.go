package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/retention"
)

// registerErasers tells retention how to erase each category of a user's
// data. "Delete my account" and the retention scheduler use the same
// erasers; an interrupted erasure is resumed where it stopped. After the
// erasers, retention destroys the user's keyring key (Config.Shredder), so
// sealed client notes in old backups can no longer be read.
func (a *App) registerErasers() {
	a.lifecycle.Register("clients", retention.EraserFunc(a.db.deleteClientsOf))
	a.lifecycle.Register("factors", retention.EraserFunc(func(ctx context.Context, user string) error {
		// Nothing to remove (ErrNotEnrolled) is done already.
		if err := a.factors.Remove(ctx, user, mfa.FactorTOTP); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
			return err
		}
		if err := a.factors.Remove(ctx, user, mfa.FactorEmail); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
			return err
		}
		if err := a.factors.Remove(ctx, user, mfa.FactorRecovery); err != nil && !errors.Is(err, mfa.ErrNotFound) {
			return err
		}
		return nil
	}))
	a.lifecycle.Register("exports", retention.EraserFunc(func(_ context.Context, user string) error {
		if p := a.exports.drop(user); p != "" {
			return os.Remove(p)
		}
		return nil
	}))
	a.lifecycle.Register("sessions", retention.EraserFunc(func(ctx context.Context, user string) error {
		_, err := a.sessions.RevokeAll(ctx, user, "") // ASVS 7.4.2
		return err
	}))
	a.lifecycle.Register("profile", retention.EraserFunc(a.db.deleteUser))
}

// erasureRecorder keeps retention's erasure receipts in the audit log.
// A receipt names no person (retention keeps receipts PII-free): it proves
// that an erasure ran, which rule ordered it and whether the key was
// destroyed.
type erasureRecorder struct{ log *audit.Log }

func (e erasureRecorder) RecordErasure(ctx context.Context, r retention.Receipt) error {
	_, err := e.log.Append(ctx, audit.Entry{
		Actor: "retention", ActorType: audit.ActorSystem, Action: "retention.erased",
		TargetType: "erasure", TargetID: r.ID,
		Details: map[string]string{"rule": r.Rule, "categories": strings.Join(r.Categories, ","), "key_shredded": strconv.FormatBool(r.KeyShredded)},
	})
	return err
}

// lastAdminMessage is shown to the only administrator on the way to
// deleting their account: nobody could administer the app afterwards.
const lastAdminMessage = "You are the only administrator: nobody could administer the app after you. " +
	"First make another user an administrator on the Admin page, then delete your account."

// isLastAdmin says whether u is the only administrator.
func (a *App) isLastAdmin(ctx context.Context, u User) (bool, error) {
	if !u.IsAdmin {
		return false, nil
	}
	n, err := a.db.countAdmins(ctx)
	return n <= 1, err
}

func (a *App) deletePage(w http.ResponseWriter, r *http.Request) {
	u, err := a.db.userByID(r.Context(), sess(r).UserID)
	var last bool
	if err == nil {
		last, err = a.isLastAdmin(r.Context(), u)
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v := view{Title: "Delete my account", Data: last}
	if last {
		v.Error = lastAdminMessage
	}
	a.render(w, r, http.StatusOK, "delete", v)
}

// deleteAccount asks for the password again (a destructive action needs a
// fresh authentication, ASVS 7.5.1), then erases everything at once.
func (a *App) deleteAccount(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	u, err := a.db.userByID(ctx, s.UserID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	// The last administrator stays until someone else holds the role.
	if last, err := a.isLastAdmin(ctx, u); err != nil || last {
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		a.render(w, r, http.StatusConflict, "delete", view{Title: "Delete my account", Error: lastAdminMessage, Data: true})
		return
	}
	// Re-authentication goes through auth, under the same throttle as sign-in.
	if _, err := a.auth.Reauthenticate(ctx, reauth(r, u.ID), a.client(r)); err != nil {
		if !reauthRefused(err) {
			a.internalError(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnprocessableEntity, "delete", view{Title: "Delete my account", Error: reauthMessage, Data: false})
		return
	}
	receipt, err := a.lifecycle.Erase(ctx, u.ID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.mail.send(u.Email, "Your account was deleted",
		"Every record of your account was erased (receipt "+receipt.ID+"). This is the last message we send you.")
	_ = a.sessions.Logout(w, r) // the session is gone already; this clears the cookie
	w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
	http.Redirect(w, r, "/signin?deleted=1", http.StatusSeeOther)
}

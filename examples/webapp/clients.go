package main

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/bulwarkhq/bulwark/keyring"
)

// Client notes are sealed under the owner's own key (keyring.SealFor) and
// bound to their row (keyring.AD), so a sealed value copied to another row
// does not open, and erasing the owner destroys the key: every copy of the
// notes, backups included, becomes unreadable (crypto-shredding).

func notesAD(id string) []byte { return keyring.AD("webapp_clients", "notes", id) }

func (a *App) sealNotes(ctx context.Context, c Client) (string, error) {
	ct, err := a.keys.SealFor(ctx, c.OwnerID, []byte(c.Notes), notesAD(c.ID))
	return base64.StdEncoding.EncodeToString(ct), err
}

func (a *App) openNotes(ctx context.Context, c *Client, sealed string) error {
	ct, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return err
	}
	pt, err := a.keys.OpenFor(ctx, c.OwnerID, ct, notesAD(c.ID))
	c.Notes = string(pt)
	return err
}

// loadClient returns one of owner's clients with its notes opened.
func (a *App) loadClient(ctx context.Context, owner, id string) (Client, error) {
	c, sealed, err := a.db.client(ctx, owner, id)
	if err != nil {
		return Client{}, err
	}
	return c, a.openNotes(ctx, &c, sealed)
}

func (a *App) clientsPage(w http.ResponseWriter, r *http.Request) {
	var list []Client
	err := a.db.clients(r.Context(), sess(r).UserID, func(c Client, _ string) error {
		list = append(list, c) // the list does not show notes: no need to open them
		return nil
	})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v := view{Title: "Clients", Data: list}
	switch {
	case r.URL.Query().Has("saved"):
		v.Notice = "Client saved."
	case r.URL.Query().Has("deleted"):
		v.Notice = "Client deleted."
	}
	a.render(w, r, http.StatusOK, "clients", v)
}

type clientFormData struct {
	Client  Client
	New     bool
	History []historyEntry
}

func (a *App) clientForm(w http.ResponseWriter, r *http.Request) {
	d := clientFormData{New: true}
	if id := r.PathValue("id"); id != "" {
		c, err := a.loadClient(r.Context(), sess(r).UserID, id)
		if errors.Is(err, errNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		h, err := a.clientHistory(r.Context(), c)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		d = clientFormData{Client: c, History: h}
	}
	title := "New client"
	if !d.New {
		title = d.Client.Name
	}
	a.render(w, r, http.StatusOK, "client", view{Title: title, Data: d})
}

// clientSave creates or updates a client. The change is recorded in the
// change log with the field diff and the client's IP, in the same database
// transaction: both are kept or neither (see recordClientChange).
func (a *App) clientSave(w http.ResponseWriter, r *http.Request) {
	ctx, s := r.Context(), sess(r)
	in := Client{
		Name:  strings.TrimSpace(r.PostFormValue("name")),
		Email: strings.TrimSpace(r.PostFormValue("email")),
		Phone: strings.TrimSpace(r.PostFormValue("phone")),
		Notes: strings.TrimSpace(r.PostFormValue("notes")),
	}
	id := r.PathValue("id")
	msg := tooLong(field{"Name", in.Name, maxName}, field{"Email", in.Email, maxEmail},
		field{"Phone", in.Phone, maxPhone}, field{"Notes", in.Notes, maxNotes})
	if in.Name == "" {
		msg = "A client needs a name."
	}
	if msg != "" {
		a.render(w, r, http.StatusUnprocessableEntity, "client", view{Title: "Client", Error: msg,
			Data: clientFormData{Client: in, New: id == ""}})
		return
	}
	now := a.cfg.Now()
	var before *Client
	if id == "" {
		in.ID, in.OwnerID, in.CreatedAt, in.UpdatedAt = uuid.Must(uuid.NewV7()).String(), s.UserID, now, now
	} else {
		old, err := a.loadClient(ctx, s.UserID, id)
		if errors.Is(err, errNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		before = &old
		in.ID, in.OwnerID, in.CreatedAt, in.UpdatedAt = old.ID, old.OwnerID, old.CreatedAt, now
	}
	sealed, err := a.sealNotes(ctx, in)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	err = a.recordClientChange(ctx, r, before, &in, func(d db) error {
		if before == nil {
			return d.insertClient(ctx, in, sealed)
		}
		return d.updateClient(ctx, in, sealed)
	})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/clients?saved=1", http.StatusSeeOther)
}

// clientDeletePage asks before an irreversible delete. It is a page of
// its own, so the question is asked without JavaScript too.
func (a *App) clientDeletePage(w http.ResponseWriter, r *http.Request) {
	c, _, err := a.db.client(r.Context(), sess(r).UserID, r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "client_delete", view{Title: "Delete " + c.Name + "?", Data: c})
}

// clientDelete deletes a client once confirmed: a POST without the
// confirmation page's answer shows the question instead.
func (a *App) clientDelete(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirm") != "yes" {
		a.clientDeletePage(w, r)
		return
	}
	ctx, s := r.Context(), sess(r)
	old, err := a.loadClient(ctx, s.UserID, r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return
	}
	if err == nil {
		err = a.recordClientChange(ctx, r, &old, nil, func(d db) error { return d.deleteClient(ctx, s.UserID, old.ID) })
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/clients?deleted=1", http.StatusSeeOther)
}

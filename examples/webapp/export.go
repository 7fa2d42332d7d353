package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/bulwarkhq/bulwark/export"
)

// "Export my data" (GDPR articles 15 and 20): every module below yields
// the signed-in user's records; package export streams them as CSV files
// into a zip, encrypted with age to a passphrase or a public key, so the
// file is safe wherever the browser saves it.

type profileModule struct{ a *App }

func (profileModule) Columns() []string {
	return []string{"id", "username", "email", "created_at"}
}

func (m profileModule) Records(ctx context.Context, s export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		u, err := m.a.db.userByID(ctx, s.Subject)
		if err != nil {
			yield(nil, err)
			return
		}
		yield([]string{u.ID, u.Username, u.Email, u.CreatedAt.Format(time.RFC3339)}, nil)
	}
}

type clientsModule struct{ a *App }

func (clientsModule) Columns() []string {
	return []string{"id", "name", "email", "phone", "notes", "created_at", "updated_at"}
}

func (m clientsModule) Records(ctx context.Context, s export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		stop := errors.New("stop")
		err := m.a.db.clients(ctx, s.Subject, func(c Client, sealed string) error {
			if err := m.a.openNotes(ctx, &c, sealed); err != nil {
				return err
			}
			if !yield([]string{c.ID, c.Name, c.Email, c.Phone, c.Notes,
				c.CreatedAt.Format(time.RFC3339), c.UpdatedAt.Format(time.RFC3339)}, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, err)
		}
	}
}

type sessionsModule struct{ a *App }

func (sessionsModule) Columns() []string {
	return []string{"id", "created_at", "last_seen", "ip", "user_agent"}
}

func (m sessionsModule) Records(ctx context.Context, s export.Scope) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		list, err := m.a.sessions.List(ctx, s.Subject)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, x := range list {
			if !yield([]string{x.ID, x.CreatedAt.Format(time.RFC3339), x.LastSeen.Format(time.RFC3339), x.IP, x.UserAgent}, nil) {
				return
			}
		}
	}
}

// exportJobs runs at most one export per user in the background, and
// keeps its progress for the page to poll and its file for one download.
type exportJobs struct {
	mu   sync.Mutex
	jobs map[string]*exportJob
}

type exportJob struct {
	Running bool   `json:"running"`
	Module  string `json:"module"`
	Rows    int64  `json:"rows"`
	// Done counts the steps finished out of Total: one per module, then
	// one for packing and encrypting the archive (with a passphrase,
	// scrypt alone takes a second or more), so the bar is full only when
	// the file is ready.
	Done       int    `json:"done"`
	Total      int    `json:"total"`
	Modules    int    `json:"modules"` // steps that are modules
	Error      string `json:"error,omitempty"`
	Ready      bool   `json:"ready"`
	Downloaded bool   `json:"downloaded"` // the file was taken; a second download is refused
	Name       string `json:"name"`       // the file's name, for the instructions
	path       string
}

func newExportJobs() *exportJobs { return &exportJobs{jobs: map[string]*exportJob{}} }

func (j *exportJobs) get(user string) (exportJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	x, ok := j.jobs[user]
	if !ok {
		return exportJob{}, false
	}
	return *x, true
}

func (j *exportJobs) update(user string, fn func(*exportJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if x, ok := j.jobs[user]; ok {
		fn(x)
	}
}

// take returns the job's file, for the one download or for erasure, and
// remembers that it was taken, so that a second download can say so.
func (j *exportJobs) take(user string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	x, ok := j.jobs[user]
	if !ok || x.Running || x.path == "" {
		return ""
	}
	j.jobs[user] = &exportJob{Downloaded: true, Name: x.Name}
	return x.path
}

// drop forgets the user's job and returns its file, for erasure.
func (j *exportJobs) drop(user string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	x, ok := j.jobs[user]
	if !ok || x.Running {
		return ""
	}
	delete(j.jobs, user)
	return x.path
}

// exportName is the downloaded file's name: the page's instructions use
// the same one.
func (a *App) exportName() string {
	return "bulwark-export-" + a.cfg.Now().UTC().Format(time.DateOnly) + ".zip.age"
}

type exportView struct {
	exportJob
	FileName string // the name to use in the instructions
}

func (a *App) renderExport(w http.ResponseWriter, r *http.Request, status int, v view, job exportJob) {
	name := job.Name
	if name == "" {
		name = a.exportName()
	}
	v.Title, v.Data = "Export my data", exportView{exportJob: job, FileName: name}
	if job.Downloaded && v.Error == "" && v.Notice == "" {
		v.Notice = "Your export was downloaded and deleted from the server. Start a new one to download it again."
	}
	a.render(w, r, status, "export", v)
}

func (a *App) exportPage(w http.ResponseWriter, r *http.Request) {
	job, _ := a.exports.get(sess(r).UserID)
	a.renderExport(w, r, http.StatusOK, view{}, job)
}

// exportStart checks the request and starts the export in the background:
// with the default scrypt cost a passphrase alone takes about a second.
func (a *App) exportStart(w http.ResponseWriter, r *http.Request) {
	user := sess(r).UserID
	req := export.Request{
		Scope:   export.Scope{Tenant: user, Subject: user},
		Archive: export.Zip,
		Format:  export.CSV,
	}
	pass, key := r.PostFormValue("passphrase"), strings.TrimSpace(r.PostFormValue("recipient"))
	fail := func(msg string) {
		a.renderExport(w, r, http.StatusUnprocessableEntity, view{Error: msg}, exportJob{})
	}
	// Exporting everything about a person is sensitive: confirm the
	// password (ASVS 7.5.1), under auth's brute-force throttle.
	if _, err := a.auth.Reauthenticate(r.Context(), reauth(r, user), a.client(r)); err != nil {
		if !reauthRefused(err) {
			a.internalError(w, r, err)
			return
		}
		fail(reauthMessage)
		return
	}
	switch {
	case key != "":
		rcp, err := age.ParseX25519Recipient(key)
		if err != nil {
			fail("That is not an age public key (it starts with age1).")
			return
		}
		req.Recipients = []age.Recipient{rcp}
	case len([]rune(pass)) >= 12:
		req.Passphrase = pass
	default:
		fail("Choose a passphrase of at least 12 characters, or give an age public key.")
		return
	}
	f, err := os.CreateTemp("", "webapp-export-*.zip.age")
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.exports.mu.Lock()
	if x, ok := a.exports.jobs[user]; ok && x.Running {
		a.exports.mu.Unlock()
		_ = f.Close()
		_ = os.Remove(f.Name())
		http.Redirect(w, r, "/account/export", http.StatusSeeOther)
		return
	}
	if x, ok := a.exports.jobs[user]; ok {
		_ = os.Remove(x.path)
	}
	n := len(a.exporter.Modules())
	a.exports.jobs[user] = &exportJob{Running: true, Modules: n, Total: n + 1, Name: a.exportName(), path: f.Name()}
	a.exports.mu.Unlock()

	req.Progress = a.exportProgress(user)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Minute)
	go func() {
		defer cancel()
		_, err := a.exporter.Export(ctx, f, req)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		a.exports.update(user, func(x *exportJob) {
			x.Running, x.Ready = false, err == nil
			if err == nil {
				x.Done = x.Total // the archive step
			}
			if err != nil {
				a.logError(ctx, fmt.Errorf("export: %w", err))
				x.Error = "The export failed. Please try again."
			}
		})
	}()
	http.Redirect(w, r, "/account/export", http.StatusSeeOther)
}

// exportProgress counts finished modules; the last step, packing and
// encrypting, is counted only when the export returns.
func (a *App) exportProgress(user string) func(export.Progress) {
	return func(p export.Progress) {
		a.exports.update(user, func(x *exportJob) {
			x.Module, x.Rows = p.Module, p.Rows
			if p.Done {
				x.Done = min(x.Done+1, x.Modules)
			}
		})
	}
}

func (a *App) exportStatus(w http.ResponseWriter, r *http.Request) {
	job, ok := a.exports.get(sess(r).UserID)
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, job)
}

func (a *App) exportDownload(w http.ResponseWriter, r *http.Request) {
	user := sess(r).UserID
	job, _ := a.exports.get(user)
	if r.Method == http.MethodHead {
		// A HEAD (the GET route answers it) does not use up the one
		// download: it gets the headers only.
		status := http.StatusNotFound
		switch {
		case job.Ready && !job.Running:
			status = http.StatusOK
		case job.Downloaded:
			status = http.StatusGone
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(status)
		return
	}
	path := a.exports.take(user)
	if path == "" {
		// Say why, rather than silently showing the form again.
		msg, status := "There is no export ready to download. Start one below.", http.StatusNotFound
		if job.Downloaded {
			msg, status = "This export has already been downloaded: each file can be downloaded once, then it is deleted "+
				"from the server. Start a new export to download your data again.", http.StatusGone
		}
		a.renderExport(w, r, status, view{Error: msg}, job)
		return
	}
	defer func() { _ = os.Remove(path) }()
	f, err := os.Open(path) //nolint:gosec // a temp file this process created
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	defer func() { _ = f.Close() }()
	name := job.Name
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	http.ServeContent(w, r, name, time.Time{}, f)
}

package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/session"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page: the shared layout plus the page.
type pages struct{ byName map[string]*template.Template }

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("Jan 2, 15:04 UTC")
	},
	"date":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"device":   device,
	"join":     strings.Join,
	"duration": retention.FormatDuration,
	"label":    activityLabel,
	"outcome":  outcomeLabel,
	"plural":   plural,
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		if path.Base(n) == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		p.byName[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title  string
	User   *User  // the signed-in user, nil for visitors
	Notice string // a success message
	// Warning is news the user should heed (old codes no longer work, a
	// factor is off), shown in amber rather than success green.
	Warning string
	Error   string // a problem to show above the form
	// Poll is how often, in seconds, the page asks how long the session
	// has left, for the "expiring soon" banner; 0 on visitors' pages.
	Poll int
	// Warn is how many seconds before the idle timeout the banner shows.
	Warn int
	// Mailbox is "own" when the development mailbox shows users their own
	// mail, "open" when it shows everyone everything (with a banner).
	Mailbox string
	// PasswordMin and PasswordMax are the policy's length limits, for the
	// hints beside password fields (which carry no maxlength: a field that
	// cuts a pasted passphrase short would set a password the user does
	// not know).
	PasswordMin, PasswordMax int
	// FormToken guards this render's forms against a second submission
	// (see onceGuard).
	FormToken string
	// EmailCodes is set on the pages with a re-authentication form for a
	// user with emailed codes on: the form offers "Email me a code".
	EmailCodes bool
	Data       any
}

// render writes page with v, buffered so that a template error becomes a
// clean 500 rather than half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	t, ok := a.pages.byName[page]
	if !ok {
		a.internalError(w, r, fmt.Errorf("no page %q", page))
		return
	}
	if v.User == nil {
		if u, ok := a.currentUser(r); ok {
			v.User = &u
		}
	}
	if v.User != nil {
		v.Poll, v.Warn = a.pollSeconds(), 120
	}
	v.PasswordMin, v.PasswordMax = a.policy.MinLength, a.policy.MaxLength
	if _, reauthForm := reauthPages[page]; reauthForm && v.User != nil {
		st, err := a.factors.Status(r.Context(), v.User.ID)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		v.EmailCodes = st.Email
		if v.Notice == "" && v.Error == "" {
			v.Notice, v.Error = a.reauthMailedNotice(r.URL.Query().Get("mailed"))
		}
	}
	v.FormToken = a.once.issue()
	switch {
	case a.cfg.InsecureOpenMailbox:
		v.Mailbox = "open"
	case a.cfg.DevMailbox:
		v.Mailbox = "own"
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		a.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pollSeconds is how often pages poll the session's time left; the banner
// shows 2 minutes before the idle timeout, as NIST SP 800-63B suggests.
func (a *App) pollSeconds() int {
	return max(1, int(a.cfg.BannerPoll/time.Second))
}

// currentUser is the user of the request's session, if the route runs
// inside the session middleware.
func (a *App) currentUser(r *http.Request) (User, bool) {
	s, ok := session.FromContext(r.Context())
	if !ok {
		return User{}, false
	}
	u, err := a.db.userByID(r.Context(), s.UserID)
	return u, err == nil
}

// device turns a User-Agent into "Chrome on Linux" for the sessions list.
func device(ua string) string {
	if ua == "" {
		return "—"
	}
	browser, osName := "Unknown browser", "unknown system"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"HeadlessChrome", "Headless Chrome"}, {"Chrome/", "Chrome"},
		{"Firefox/", "Firefox"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			osName = o.name
			break
		}
	}
	return browser + " on " + osName
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// humanDuration writes 10 minutes, 1 hour, 90 seconds.
func humanDuration(d time.Duration) string {
	unit := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int(d/time.Minute), "minute")
	}
	return unit(int(d/time.Second), "second")
}

// activityLabel says what an audited sign-in step means, for the user's
// security activity.
func activityLabel(action, reason string) string {
	labels := map[auth.EventType]string{
		auth.EventRegistered:     "Account created",
		auth.EventLogin:          "Signed in",
		auth.EventLoginFailed:    "Sign-in failed",
		auth.EventMFAPending:     "Password accepted, code awaited",
		auth.EventRateLimited:    "Sign-in blocked: too many attempts from the network",
		auth.EventLockout:        "Sign-in paused after failures",
		auth.EventUnlock:         "Unlocked by an administrator",
		auth.EventMFAFailed:      "Wrong second-factor code",
		auth.EventMFALockout:     "Second factor locked after wrong codes",
		auth.EventMFAChanged:     "Two-factor authentication changed",
		auth.EventPasswordSet:    "Password set",
		auth.EventPasswordFailed: "Wrong current password",
		auth.EventResetRequested: "Password reset requested",
		auth.EventResetInvalid:   "Invalid reset link used",
		auth.EventReauth:         "Password confirmed",
		auth.EventSessionsEnded:  "Sessions ended",
		auth.EventNewDevice:      "Sign-in from a new device",
		"session.logout":         "Signed out",
		"session.revoked":        "Session ended",
		"session.revoked_all":    "Sessions ended",
		"admin.sessions.ended":   "Sessions ended by an administrator",
		"admin.role.granted":     "Made an administrator",
		"client.created":         "Created",
		"client.updated":         "Changed",
		"client.deleted":         "Deleted",
	}
	switch {
	case action == string(auth.EventRegistered) && reason == "taken":
		return "Someone tried to sign up with your address"
	case action == string(auth.EventSessionsEnded):
		// auth records how many sessions ended as the reason.
		n, err := strconv.Atoi(reason)
		switch {
		case err != nil:
			return "Other sessions ended"
		case n == 0:
			return "No other session to end"
		}
		return plural(n, "other session") + " ended"
	}
	l, ok := labels[auth.EventType(action)]
	if !ok {
		l = action
	}
	if reason != "" {
		l += " (" + reason + ")"
	}
	return l
}

// outcomeLabel turns an audit outcome into a word for the pages.
func outcomeLabel(outcome string) string {
	switch outcome {
	case "success":
		return "done"
	case "failure":
		return "refused"
	case "error":
		return "error"
	}
	return outcome
}

// plural writes "1 chain", "3 chains".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

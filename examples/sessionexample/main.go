// Command sessionexample is a small web app showing the session package in
// a browser: login, the single-session rule, the "expiring soon" banner,
// "end all sessions", and logout when the tab closes (pagehide beacon).
//
//	go run ./examples/sessionexample
//	open http://localhost:8080/
//
// It uses InsecureDevCookie so that cookies work on plain http://localhost;
// a production app serves HTTPS and leaves it unset. It checks no
// password: any user name logs in. The idle timeout is shortened to 2
// minutes so the banner shows up quickly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (keep it on localhost: cookies are not Secure)")
	flag.Parse()
	app, err := newApp(time.Now)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: app, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on http://%s/", *addr)
	log.Fatal(srv.ListenAndServe())
}

var page = template.Must(template.New("").Parse(`<!doctype html>
<title>session example</title>
{{if .User}}
<p>Logged in as <b>{{.User}}</b>. <span id="left"></span></p>
<form method="post" action="/logout"><button>Log out</button></form>
<form method="post" action="/app/end-all"><button>End all sessions</button></form>
<h2>Your sessions</h2>
<ul>{{range .Sessions}}<li>{{.ID}} from {{.IP}} ({{.UserAgent}}), since {{.CreatedAt.Format "15:04:05"}}, last seen {{.LastSeen.Format "15:04:05"}}</li>{{end}}</ul>
<script>
// Log out when the tab is closed for good (not when it goes to the
// back/forward cache). The beacon only marks the session: a reload fires
// pagehide too, and its next request keeps the session; with no page left
// the session ends after a few seconds. The short idle timeout covers
// browsers that never send the beacon.
addEventListener("pagehide", (e) => { if (!e.persisted) navigator.sendBeacon("/session/close"); });
// The "expiring soon" banner: polling time-left does not extend the session.
async function poll() {
  const r = await fetch("/session/time-left");
  if (!r.ok) { location.href = "/"; return; }
  const t = await r.json();
  document.getElementById("left").textContent =
    t.idle_seconds <= 60 ? "Your session ends in " + t.idle_seconds + " s unless you do something." : "";
}
setInterval(poll, 10000);
</script>
{{else}}
<p>{{.Message}}</p>
<form method="post" action="/login"><input name="user" placeholder="user name" required> <button>Log in</button></form>
{{end}}`))

type view struct {
	User     string
	Sessions []session.Session
	Message  string
}

func newApp(now func() time.Time) (http.Handler, error) {
	sessions, err := session.New(memstore.NewSessionStore(), session.Config{
		IdleTimeout:       2 * time.Minute,
		InsecureDevCookie: true, // http://localhost only
		Unauthenticated:   http.RedirectHandler("/", http.StatusSeeOther),
		OnError:           func(_ context.Context, err error) { log.Print(err) },
		Now:               now,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		render(w, view{Message: "Log in. A second login for the same user elsewhere is refused while this one is live."})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user")
		_, err := sessions.Login(w, r, user, session.Login{Factors: []string{"password"}})
		switch {
		case errors.Is(err, session.ErrLimit):
			w.WriteHeader(http.StatusConflict)
			render(w, view{Message: fmt.Sprintf("%s is already logged in elsewhere.", user)})
		case err != nil:
			http.Error(w, "try again", http.StatusServiceUnavailable)
		default:
			http.Redirect(w, r, "/app/", http.StatusSeeOther)
		}
	})
	app := http.NewServeMux()
	app.HandleFunc("GET /app/{$}", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		list, err := sessions.List(r.Context(), s.UserID)
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		render(w, view{User: s.UserID, Sessions: list})
	})
	app.HandleFunc("POST /app/end-all", func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		if _, err := sessions.RevokeAll(r.Context(), s.UserID, ""); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("/app/", sessions.Middleware(app))
	mux.Handle("POST /logout", sessions.LogoutHandler())
	mux.Handle("POST /session/close", sessions.CloseHandler())
	mux.Handle("GET /session/time-left", sessions.TimeLeftHandler())
	// Refuse cross-origin form posts (login CSRF, "end all" CSRF).
	return http.NewCrossOriginProtection().Handler(mux), nil
}

func render(w http.ResponseWriter, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, v); err != nil {
		log.Print(err)
	}
}

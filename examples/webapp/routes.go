package main

import (
	"io/fs"
	"net/http"
)

// routes maps every URL. Visitors' pages sit outside the session
// middleware; everything under "signedIn" needs a live session and is
// answered with Cache-Control: no-store.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()

	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	// Visitors.
	mux.Handle("GET /{$}", a.sessions.Optional(http.HandlerFunc(a.home)))
	mux.HandleFunc("GET /signup", a.signupPage)
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("POST /password/check", a.passwordCheck)
	mux.HandleFunc("GET /signin", a.signinPage)
	mux.HandleFunc("POST /signin", a.signin)
	mux.HandleFunc("GET /signin/mfa", a.signinMFAPage)
	mux.HandleFunc("POST /signin/mfa", a.signinMFA)
	mux.HandleFunc("POST /signin/mfa/email", a.signinMFAEmail)
	mux.HandleFunc("GET /forgot", a.forgotPage)
	mux.HandleFunc("POST /forgot", a.forgot)
	mux.HandleFunc("GET /reset", a.resetPage)
	mux.HandleFunc("POST /reset", a.reset)
	// The development mailbox: off unless turned on; then each signed-in
	// user reads their own mail (see devMailer).
	mux.Handle("GET /dev/mailbox", private(a.sessions.Optional(http.HandlerFunc(a.mailboxPage))))

	// Session plumbing from package session: the idle-banner poll (which
	// must not count as activity), the pagehide beacon (which marks the
	// session closing: it ends unless a page of the site asks within the
	// grace) and a plain logout endpoint.
	mux.Handle("GET /session/time-left", a.sessions.TimeLeftHandler())
	mux.Handle("POST /session/close", a.sessions.CloseHandler())
	mux.Handle("POST /logout", a.sessions.LogoutHandler())
	mux.HandleFunc("POST /signout", a.signout)

	// Signed-in users.
	in := http.NewServeMux()
	in.HandleFunc("GET /clients", a.clientsPage)
	in.HandleFunc("GET /clients/new", a.clientForm)
	in.HandleFunc("POST /clients/new", a.clientSave)
	in.HandleFunc("GET /clients/{id}", a.clientForm)
	in.HandleFunc("POST /clients/{id}", a.clientSave)
	in.HandleFunc("GET /clients/{id}/delete", a.clientDeletePage)
	in.HandleFunc("POST /clients/{id}/delete", a.clientDelete)

	in.HandleFunc("GET /account", a.accountPage)
	in.HandleFunc("POST /account/password", a.changePassword)
	in.HandleFunc("POST /account/sessions/{id}/end", a.endSession)
	in.HandleFunc("POST /account/sessions/end-others", a.endOtherSessions)
	in.HandleFunc("POST /account/sessions/end-all", a.endAllSessions)
	in.HandleFunc("GET /account/mfa", a.mfaPage)
	in.HandleFunc("POST /account/mfa/enrol", a.mfaEnrol)
	in.HandleFunc("POST /account/mfa/confirm", a.mfaConfirm)
	in.HandleFunc("POST /account/mfa/remove", a.mfaRemove)
	in.HandleFunc("POST /account/mfa/email", a.mfaEmailStart)
	in.HandleFunc("POST /account/mfa/email/confirm", a.mfaEmailConfirm)
	in.HandleFunc("POST /account/mfa/email/remove", a.mfaEmailRemove)
	in.HandleFunc("POST /account/reauth/email-code", a.reauthEmailCode)
	in.HandleFunc("POST /account/recovery-codes", a.recoveryCodes)

	in.HandleFunc("GET /account/export", a.exportPage)
	in.HandleFunc("POST /account/export", a.exportStart)
	in.HandleFunc("GET /account/export/status", a.exportStatus)
	in.HandleFunc("GET /account/export/download", a.exportDownload)
	in.HandleFunc("GET /account/delete", a.deletePage)
	in.HandleFunc("POST /account/delete", a.deleteAccount)

	in.Handle("GET /admin", a.adminOnly(a.adminPage))
	in.Handle("POST /admin/users/{id}/end-sessions", a.adminOnly(a.adminEndSessions))
	in.Handle("POST /admin/users/{id}/reset", a.adminOnly(a.adminReset))
	in.Handle("POST /admin/users/{id}/admin", a.adminOnly(a.adminGrant))
	in.Handle("POST /admin/verify", a.adminOnly(a.adminVerify))

	signedIn := private(a.sessions.Middleware(in))
	for _, p := range []string{"/clients", "/clients/", "/account", "/account/", "/admin", "/admin/"} {
		mux.Handle(p, signedIn)
	}
	return mux
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.currentUser(r); ok {
		http.Redirect(w, r, "/clients", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// signinRedirect is session's Config.Unauthenticated: a browser without a
// live session goes to the sign-in page, told why when it had a session
// cookie (it timed out or was ended elsewhere).
func (a *App) signinRedirect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	target := "/signin"
	if _, err := r.Cookie(a.sessions.Config().CookieName); err == nil {
		target += "?ended=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

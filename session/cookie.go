package session

import "net/http"

// SetCookie sets the session cookie carrying token on w, with the same
// attributes as [Manager.Login] (the "__Host-" prefix, Secure, HttpOnly,
// SameSite, no Max-Age so that it dies with the browser). It is for hosts
// whose sessions start through [Manager.Create] inside another flow that
// hands the token back, such as auth's sign-in behind the composition
// package's handlers: the flow issues the session, and the cookie is still
// written by this package's code rather than the host's. It does not end
// the session the request carried; do that first (see [Manager.Destroy]).
func (m *Manager) SetCookie(w http.ResponseWriter, token string) { m.setSessionCookie(w, token) }

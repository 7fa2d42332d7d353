// Package session manages logged-in sessions: opaque tokens, idle and
// absolute timeouts, the single-session rule, a per-user index, optional
// remember-me, step-up, and net/http middleware.
//
// # Quick start
//
//	st := memstore.NewSessionStore()                // or sqlstore / redisstore
//	m, err := session.New(st, session.Config{})     // all defaults, see below
//	if err != nil { ... }
//	mux.Handle("/app/", m.Middleware(app))          // session in r.Context()
//	mux.Handle("POST /logout", m.LogoutHandler())
//	mux.Handle("GET /session/time-left", m.TimeLeftHandler())
//
//	// in the login handler, after checking the password:
//	if _, err := m.Login(w, r, userID, session.Login{Factors: []string{"password"}}); err != nil { ... }
//
// [Manager.Login] is the way to start a session over HTTP: it issues the
// token, ends the session the browser already carried, and sets the
// cookies. A sign-in flow built on this package (Bulwark's composition
// package, or the host's own) calls it once the user has authenticated.
// [Manager.Create] does the same without cookies, for clients that carry
// the token themselves.
//
//	// in an app handler:
//	s, _ := session.FromContext(r.Context())
//
// # Tokens
//
// A token is 256 bits from crypto/rand (ASVS 7.2.3, 11.5.1), sent to the
// browser as 43 characters of base64url. Stores keep only its SHA-256
// ([Session.TokenHash]), so a copy of the database yields no usable
// session. Every login, step-up and privilege change issues a new token and
// kills the previous one ([Manager.Login], [Manager.Rotate],
// [Manager.StepUp]; ASVS 7.2.4), and logout deletes the session on the
// server ([Manager.Logout], [Manager.Destroy]; ASVS 7.4.1). Tokens are only
// ever verified on the server (ASVS 7.2.1).
//
// # Timeouts
//
// Documented here as ASVS 7.1.1 asks:
//   - Idle timeout, default 10 minutes ([Config.IdleTimeout]): the
//     products' rule, inside NIST SP 800-63B's 30 minutes for AAL2
//     (ASVS 7.3.1).
//   - Absolute lifetime, default 12 hours ([Config.AbsoluteTimeout]): NIST
//     SP 800-63B's AAL2 limit; activity never extends it (ASVS 7.3.2).
//
// Both are judged on the server with the injected clock, by the store and
// again by the [Manager] (so a Manager configured stricter than the one that
// wrote a session is obeyed).
//
// Recording activity does not cost a write per request. A request writes
// the new idle window only when the recorded last activity is at least
// [Config.TouchInterval] old (default 1 minute, never more than a tenth of
// the idle timeout). The recorded activity therefore lags the real one by
// less than the interval, and a session expires between IdleTimeout minus
// TouchInterval and IdleTimeout after the last request: never late, at
// most one interval early. TestIdleExpiryExactToTouchInterval proves it.
// The session cookie has no Max-Age or Expires, so it also dies with the
// browser.
//
// # The single-session rule
//
// Documented here as ASVS 7.1.2: a user may hold [Config.MaxSessions] live
// sessions, 1 by default. At the limit, [Config.ReplaceOld] decides:
//   - false (the default) refuses the new login with [ErrLimit] while a live
//     session exists: "prevent simultaneous logins from several places".
//     A session the same browser already carries does not count: Login ends
//     it first. A user who closed the browser without logging out can log
//     in again once the idle timeout has passed, or the host can offer
//     [Manager.RevokeAll] after re-authentication.
//   - true ends the oldest sessions (with their remember-me
//     families) to make room, and reports them in [Issued.Evicted] and as
//     [EventEvicted].
//
// The rule is enforced inside the store in one atomic step (a transaction
// holding a per-user lock on PostgreSQL, a write transaction on SQLite, a
// Lua script on Redis, a mutex in memory), so it holds across any number of
// app instances sharing the store: 1,000 concurrent logins from 4 Managers
// on one PostgreSQL or one Redis leave exactly MaxSessions sessions.
//
// # Listing and revoking
//
// Every store keeps a per-user index, so [Manager.List] (created, last
// seen, IP, user agent, remember-me family), [Manager.Revoke] (one session
// by its id) and [Manager.RevokeAll] ("log out my other devices" with the
// current session's id, to offer after a password or MFA change, ASVS
// 7.4.3; "end all active sessions" with none, account disabled or
// deleted, ASVS 7.4.2) cost
// O(that user's sessions), never a scan of all sessions. Admins use the same
// calls (ASVS 7.4.5). ASVS 7.5.2 asks that users re-authenticate before
// ending sessions; guard those handlers with [Manager.RequireRecentAuth].
//
// # Remember me
//
// Off by default ([Config.RememberMe]). When enabled, a login with
// [Login.Remember] also gets a separate remember-me token in its own
// cookie, with a lifetime ([Config.RememberLifetime], 30 days by default,
// fixed at login). When the session cookie is gone, [Manager.Middleware]
// uses it to start a new session and replaces it with a
// new token of the same family. A token that comes back after it was used
// means someone holds a copy: the whole family and the sessions it started
// are revoked ([ErrReused], [EventRememberReuse]). Logout and revocation
// end the family too. A resumed session keeps the original login's
// AuthTime and has only the factor [FactorRemember], so sensitive actions
// still ask for a fresh authentication.
//
// Two requests racing with the same remember-me token (two tabs opened at
// once after a browser restart) look like reuse and log the user out; this
// is the price of reuse detection and errs on the safe side.
//
// # Step-up
//
// A session records when the user last authenticated ([Session.AuthTime])
// and with which factors ([Session.Factors]). [Manager.RequireRecent] and
// the middleware [Manager.RequireRecentAuth] demand a recent authentication,
// optionally with given factors, before a sensitive action (ASVS 7.5.1,
// 7.5.3); after the user re-authenticates, [Manager.StepUp] records it and
// issues a new token.
//
// # HTTP
//
// [Manager.Middleware] loads the session into the request context
// ([FromContext]) and refreshes the idle window; requests without a live
// session go to [Config.Unauthenticated] (401 by default). [Manager.Optional]
// does the same for pages that also serve visitors. Cookies are
// named with the __Host- prefix and are Secure, HttpOnly, SameSite=Lax and
// Path=/, with no Domain; the session cookie has no Max-Age or Expires.
// For development on plain http://localhost, set [Config.InsecureDevCookie],
// which drops Secure and the prefix; its name says why it must not reach
// production.
//
// [Manager.TimeLeftHandler] reports the time left
// without touching the session, for an "expiring soon" banner (NIST SP
// 800-63B suggests warning about 2 minutes before the idle timeout).
//
// "Closing the tab logs the user out" is met by the browser-lifetime cookie
// and the short idle timeout, plus a pagehide beacon to
// [Manager.CloseHandler]; see its documentation for the snippet.
//
// # Closing the tab, and reloading it
//
// pagehide, the only event a closing tab reliably fires, also fires on
// reload, Back and Forward. So the beacon does not end the session: it
// marks it closing ([Manager.CloseHandler], [Session.Closing]), and the
// session ends [Config.CloseGrace] later unless a request with its cookie
// comes first and clears the mark. The grace defaults to 10 seconds
// ([Config.CloseGrace]): the next page of a reload or a Back follows the
// beacon within a second even on a slow connection, while a closed tab's
// session is gone 10 seconds later rather than at the idle timeout. The
// mark is kept in the store and lowers the session's expiry to the end of
// the grace, so every instance and every store sees a closed session end
// on time; a request within the grace restores the expiry, never past the
// idle or absolute limit. Judged with the injected clock; a store error
// while marking or clearing denies. A remember-me family is not ended by
// a closed tab (remembering across a browser close is what it is for),
// except when the Manager itself ends a marked session it finds still
// stored after the grace: it deletes it as a logout does.
//
// # Errors, concurrency and nil
//
// The Manager fails closed: a store error makes the request
// unauthenticated, never logged in, and goes to [Config.OnError]. Errors
// never contain tokens. Reportable events ([Event], values "session.*") go
// to [Config.Hook], synchronously, and carry no secrets. A Manager is safe
// for concurrent use, and so is every store in Bulwark. [New] returns an
// error, never panics, on a nil store or a negative duration. A zero
// [Config] means the defaults above; [Manager.Config] reports the
// effective settings.
//
// # Storage
//
// [Store] is implemented by store/memstore, store/sqlstore (PostgreSQL and
// SQLite) and store/redisstore (keys expire with their sessions). With the
// first two, call [Manager.Cleanup] periodically to delete expired records
// in batches; its cost follows what expired, and it never holds a lock
// for long (memstore keeps an expiry-ordered index and gives its lock up
// every 64 records; sqlstore deletes through its expiry index, at most
// 1,000 rows per statement). Package
// session/sessiontest checks any implementation against the contract.
package session

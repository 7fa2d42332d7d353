// Package bulwark wires Bulwark's packages together and serves the account
// flows a SaaS host would otherwise write: sign-up, sign-in with a second
// factor, sign-out, password reset and change, the sessions list, and
// factor enrolment, as JSON endpoints behind the host's own pages.
//
// # Wiring
//
// The host passes its stores and a key-encryption key in [Deps]; [New]
// builds the password hasher and policy, the keyring (which seals TOTP
// secrets), mfa, session, audit and auth, and returns them in a
// [Bulwark]:
//
//	st, _ := sqlstore.Open(ctx, db) // or memstore / redisstore
//	_ = st.Migrate(ctx)
//	kek, _ := keyring.LocalKEKFromEnv("BULWARK_KEK")
//	b, err := bulwark.New(bulwark.Deps{
//		Users: st.Users(), Auth: st.Auth(), Sessions: st.Session(), MFA: st.MFA(),
//		Audit: st.Audit(), Keys: st.Keyring(), KEK: kek, Mailer: mailer,
//	}, bulwark.Config{})
//	mux.Handle("/auth/", b.Handler())
//	mux.Handle("/app/", b.Middleware(appHandler)) // session.FromContext(r.Context())
//
// A missing dependency or an invalid setting is an error from New, never a
// panic. A zero [Config] means secure defaults (see [Config]); each package's
// own Config is embedded for overrides.
//
// # Events
//
// Every package reports events through its hook; New routes each one into
// the audit log (action = the event type, "auth.login", "session.created",
// "mfa.confirmed", "keyring.key_added", ...; the outcome; the user; the
// client's IP address and user agent when the event happens while serving
// a request) and then to [Config.Hook] as an [Event]. auth's events are
// written fail-closed: a sign-in whose audit record cannot be written is
// refused. auth's account notifications (a new device, a password change,
// a lockout, ...) go to the [Mailer] with the user's address.
//
// # HTTP endpoints
//
// [Bulwark.Handler] serves, under [Config.PathPrefix] ("/auth"):
//
//	POST   /signup                 {first_name, last_name, email, password}  202, whether or not the address was known
//	POST   /signin                 {login, password}      200 {"next": "done" | "mfa" | "enroll_mfa"}
//	POST   /signin/mfa             {code}                 TOTP, recovery or emailed code; 200 {"next": "done"}
//	POST   /signin/mfa/email       {}                     mails a sign-in code to a user who turned emailed codes on; 202
//	POST   /signout                {}                     204
//	POST   /password/reset         {email}                202, whether or not the address was known
//	POST   /password/reset/complete {token, password}     204; no session: sign in again, with the second factor
//	POST   /password/change        {current, new, end_other_sessions}  204
//	POST   /reauth                 {password, code}       204; renews the session's authentication time
//	GET    /sessions                                      200 {"sessions": [...]}
//	DELETE /sessions                                      ends every other session; 200 {"ended": n}
//	DELETE /sessions/{id}                                 204
//	GET    /mfa                                           200 {"totp": "none"|"pending"|"active", "email": bool, "recovery_codes": n}
//	POST   /mfa/totp               {}                     starts enrolment: 200 {uri, secret, qr_code_png, expires_at}
//	POST   /mfa/totp/confirm       {code}                 204
//	DELETE /mfa/totp                                      204
//	POST   /mfa/recovery-codes     {}                     200 {"codes": [...]}, replacing the old set
//	POST   /mfa/email              {}                     mails a code to confirm emailed codes; 202
//	POST   /mfa/email/confirm      {code}                 204
//	DELETE /mfa/email                                     204
//
// The endpoints from /password/change down need a session; the /mfa
// changes also need a recent authentication (auth's RecentAuth, 10 minutes
// by default; POST /reauth renews it), else 403 "reauth_required". Errors
// are JSON, {"error": {"code": "..."}}, with stable codes:
// invalid_credentials (unknown login, wrong password and locked account
// alike), rate_limited, session_limit (the single-session rule refused a
// second session), invalid_pending, invalid_code, code_required,
// mfa_locked, mfa_attempts_exhausted, password_policy (with "violations"),
// invalid_reset_token, invalid_input, already_enrolled, not_enrolled,
// retry_later, unauthenticated, reauth_required, not_found, invalid_json,
// body_too_large, unsupported_media_type, cross_origin, unavailable (no
// Mailer) and internal (a system failure, whose cause goes to
// [Config.OnError] only).
//
// # Cross-site request forgery
//
// Every request other than GET and HEAD must have Content-Type
// application/json, which an HTML form on another site cannot send (and a
// cross-site fetch can only send after a CORS preflight, which these
// handlers never answer), and must be same-origin by its Sec-Fetch-Site
// header or, in older browsers, its Origin header against Host (net/http's
// CrossOriginProtection); [Config.TrustedOrigins] admits a front end on
// another origin. Both checks apply to sign-in and sign-up too (login
// CSRF). The session cookie is also SameSite=Lax. Bodies are capped at
// 8 KiB, and unknown fields or trailing data are refused.
//
// # Sign-in, the session cookie and the pending second factor
//
// auth's flow starts the session through [SessionIssuer] (session's
// Manager.Create, so the single-session rule applies) and hands the token
// back; the handler writes the cookie with session's own code
// ([session.Manager.SetCookie]), so no http.ResponseWriter travels in a
// context. A sign-in first ends the session the browser already carries,
// so a new sign-in never keeps an old token (ASVS 5.0 7.2.4) and signing in
// again in the same browser is not refused by the single-session rule.
//
// Between the password and the second factor the browser holds two
// HttpOnly, SameSite=Strict cookies: the pending-MFA token, and a random
// pre-login binding whose hash is auth's Client.Binding, so the pending
// state completes only in the browser that started it. The client's
// address comes from clientip with [Config.TrustedProxies].
//
// # Enumeration
//
// An unknown login, a wrong password and a locked account get the same
// status and body, after the same work (auth verifies a dummy hash for
// unknown logins); sign-up and reset requests answer 202 whether or not the
// address is registered, and auth notifies the address's owner instead.
// Sign-up is counted per client address (IPv6: per /64) against auth's
// IPLimit and IPWindow before the address is looked at, and answers 429
// rate_limited past it: each one costs a password hash and a mail.
package bulwark

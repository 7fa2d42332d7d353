package main

import (
	"context"
	"errors"
	"mime"
	"net/http"
)

// contentSecurityPolicy allows only the app's own scripts, styles and
// images (plus data: images, for the TOTP QR code), no plugins, no <base>
// tricks, forms posting only to the app, and no framing by any site
// (clickjacking; frame-ancestors supersedes X-Frame-Options).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure wraps every response of the app:
//
//   - CSRF: http.CrossOriginProtection refuses state-changing requests
//     (POST, PUT, DELETE...) that the browser marks as cross-origin, through
//     Sec-Fetch-Site or, from older browsers, Origin. No tokens in forms are
//     needed, and SameSite=Lax session cookies add a second layer.
//   - Security headers on every answer, HSTS only over TLS (RFC 6797 says
//     browsers ignore it over plain HTTP).
func (a *App) secure(next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.cfg.Log.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"ip", a.cfg.ClientIP.String(r))
		http.Error(w, "Cross-origin request refused.", http.StatusForbidden)
	}))
	protected := csrf.Handler(limitBody(a.onceOnly(next)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		// The client's address and user agent ride in the context, for
		// hooks that audit without the request (session's OnEvent).
		ctx := context.WithValue(r.Context(), clientKey{}, clientInfo{IP: a.cfg.ClientIP.String(r), UserAgent: r.UserAgent()})
		protected.ServeHTTP(w, r.WithContext(ctx))
	})
}

// maxBodyBytes caps every request body. The largest form the app has is a
// client with its notes (4,000 characters, at most 16 KiB of UTF-8, then
// percent-encoded); nothing legitimate comes near 64 KiB. Without a cap an
// unauthenticated POST of any size was read whole before a handler looked
// at it.
const maxBodyBytes = 64 << 10

// limitBody reads at most maxBodyBytes of a request, and parses forms here,
// so that an oversized one is refused with 413 and a clear message before
// any handler runs (handlers' PostFormValue would otherwise see empty
// fields and answer with a confusing error).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, "This form is too large: a request may carry at most 64 KiB.", http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "This form could not be read.", http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type clientKey struct{}

type clientInfo struct{ IP, UserAgent string }

func clientFrom(ctx context.Context) clientInfo {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c
}

// private marks an answer that carries personal data: browsers and proxies
// must not keep a copy (ASVS 14.3.2), so the back button after logout shows
// nothing.
func private(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

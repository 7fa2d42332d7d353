package org

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
)

// Principal is who a request acts as: a member of a tenant, directly (a
// signed-in user, see [WithPrincipal]) or through an API token
// ([Manager.TokenMiddleware]), in which case TokenID is set and the
// token's scope also limits every check.
type Principal struct {
	Tenant  string
	User    string
	TokenID string
	scope   bitset
}

type principalKey struct{}

// WithPrincipal returns ctx carrying user acting in tenant, for
// [Manager.Allowed] and [Manager.Require]. The host's session middleware
// calls it once it knows the signed-in user and the tenant they chose.
func WithPrincipal(ctx context.Context, tenant, user string) context.Context {
	return context.WithValue(ctx, principalKey{}, &Principal{Tenant: tenant, User: user})
}

// PrincipalFrom returns the principal in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok || p == nil || p.Tenant == "" || p.User == "" {
		return Principal{}, false
	}
	return *p, true
}

// Require returns middleware that lets a request through only when its
// [Principal] holds p on the whole tenant. It fails closed: no principal
// or a denied permission is 403 Forbidden; a store error, or p outside the
// catalogue, is 500. Record-level checks belong in the handler
// ([Manager.Allowed] with a [Resource]).
func (m *Manager) Require(p Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, err := m.Allowed(r.Context(), p, Resource{})
			switch {
			case err != nil:
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			case !ok:
				http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// TokenMiddleware accepts API tokens on "Authorization: Bearer <token>".
// A request without an Authorization header passes through unchanged (a
// session may authenticate it); one with a Bearer token that is malformed
// (refused before any store access), unknown, expired or revoked gets 401
// with a WWW-Authenticate challenge; a store error gets 500. A valid
// token puts its [Principal] in the request context. The client address
// recorded as the token's last use comes from [Config.ClientIP].
func (m *Manager) TokenMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			next.ServeHTTP(w, r)
			return
		}
		p, err := m.ValidateToken(r.Context(), strings.TrimSpace(tok), m.clientIP(r))
		switch {
		case errors.Is(err, ErrInvalidToken):
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		case err != nil:
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		default:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, &p)))
		}
	})
}

func (m *Manager) clientIP(r *http.Request) string {
	if m.cfg.ClientIP != nil {
		return m.cfg.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package session

import (
	"context"
	"time"
)

// HashToken exposes hashToken to the package's external tests: the
// SHA-256 under which a store keeps token, and false if token is not well
// formed.
var HashToken = hashToken

// ErrRememberDisabled lets external tests match errRememberDisabled.
var ErrRememberDisabled = errRememberDisabled

// MarkClosing is what [Manager.CloseHandler] does for the request's token.
func (m *Manager) MarkClosing(ctx context.Context, token string) error {
	return m.markClosing(ctx, token)
}

// TimeLeft is what [Manager.TimeLeftHandler] reports for token.
func (m *Manager) TimeLeft(ctx context.Context, token string) (idle, absolute time.Duration, err error) {
	return m.timeLeft(ctx, token)
}

// Resume is what [Manager.Middleware] does with a remember-me cookie when
// the session cookie is gone.
func (m *Manager) Resume(ctx context.Context, rememberToken string, l Login) (Issued, error) {
	return m.resume(ctx, rememberToken, l)
}

package bulwark_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
)

// TestNewZeroConfig: a zero Config wires every package with its defaults.
func TestNewZeroConfig(t *testing.T) {
	t.Parallel()
	b, err := bulwark.New(memDeps(t, nil), bulwark.Config{})
	require.NoError(t, err)
	require.NotNil(t, b.Auth)
	require.NotNil(t, b.Sessions)
	require.NotNil(t, b.MFA)
	require.NotNil(t, b.Audit)
	require.NotNil(t, b.Keyring)
	require.NotNil(t, b.Hasher)
	require.NotNil(t, b.Handler())
	// The defaults the Config documents.
	require.Equal(t, "__Host-session", b.Sessions.Config().CookieName)
	require.Equal(t, 1, b.Sessions.Config().MaxSessions)
	require.False(t, b.Sessions.Config().ReplaceOld, "a second login is refused, not the first ended")
	require.Equal(t, 10*60.0, b.Sessions.Config().IdleTimeout.Seconds())
}

// TestNewMissingDeps: each missing dependency is an error naming it, never
// a panic; so is an invalid setting.
func TestNewMissingDeps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		unset func(*bulwark.Deps)
	}{
		{"Users", func(d *bulwark.Deps) { d.Users = nil }},
		{"Auth", func(d *bulwark.Deps) { d.Auth = nil }},
		{"Sessions", func(d *bulwark.Deps) { d.Sessions = nil }},
		{"MFA", func(d *bulwark.Deps) { d.MFA = nil }},
		{"Audit", func(d *bulwark.Deps) { d.Audit = nil }},
		{"Keys", func(d *bulwark.Deps) { d.Keys = nil }},
		{"KEK", func(d *bulwark.Deps) { d.KEK = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := memDeps(t, nil)
			tc.unset(&d)
			_, err := bulwark.New(d, bulwark.Config{})
			require.ErrorIs(t, err, bulwark.ErrMissingDep)
			require.Contains(t, err.Error(), "Deps."+tc.name)
		})
	}
	bad := []struct {
		name string
		cfg  bulwark.Config
	}{
		{"prefix", bulwark.Config{PathPrefix: "auth/"}},
		{"origin", bulwark.Config{TrustedOrigins: []string{"not an origin"}}},
		{"session duration", func() bulwark.Config {
			var c bulwark.Config
			c.Session.IdleTimeout = -1
			return c
		}()},
		{"mfa digits", func() bulwark.Config {
			var c bulwark.Config
			c.MFA.TOTPDigits = 7
			return c
		}()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() { _, err = bulwark.New(memDeps(t, nil), tc.cfg) })
			require.Error(t, err)
			require.False(t, errors.Is(err, bulwark.ErrMissingDep))
		})
	}
}

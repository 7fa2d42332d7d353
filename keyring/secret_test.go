package keyring_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/keyring"
)

func TestSecretRedacted(t *testing.T) {
	t.Parallel()
	s := keyring.NewSecret([]byte("hunter2"))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		out := fmt.Sprintf(verb, s)
		require.Equal(t, "[REDACTED]", out, verb)
	}
	require.NotContains(t, fmt.Sprintf("%v %+v", struct{ P keyring.Secret }{s}, &s), "hunter2")
	// Where fmt cannot call the methods (an unexported field), it prints an
	// address, not the bytes.
	type config struct{ password keyring.Secret }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		out := fmt.Sprintf(verb, config{s})
		require.NotContains(t, out, "hunter2", verb)
		require.NotContains(t, out, "104 117 110", verb) // "hun" as %v of a []byte
		require.NotContains(t, out, "68756e", verb)      // "hun" in hex
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "password", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "password", s)
	require.NotContains(t, buf.String(), "hunter2")
	require.Contains(t, buf.String(), "[REDACTED]")
	j, err := json.Marshal(map[string]any{"p": s})
	require.NoError(t, err)
	require.Equal(t, `{"p":"[REDACTED]"}`, string(j))
}

func TestSecretEqualAndZero(t *testing.T) {
	t.Parallel()
	raw := []byte("hunter2")
	s := keyring.NewSecret(raw)
	raw[0] = 'X'
	require.Equal(t, "hunter2", string(s.Bytes()), "NewSecret copies")
	require.True(t, s.Equal(keyring.NewSecret([]byte("hunter2"))))
	require.False(t, s.Equal(keyring.NewSecret([]byte("hunter3"))))
	require.False(t, s.Equal(keyring.NewSecret([]byte("hunter"))))
	c := s
	s.Zero()
	require.Equal(t, make([]byte, 7), c.Bytes(), "copies share the bytes")
	var zero keyring.Secret
	zero.Zero()
	require.Empty(t, zero.Bytes())
}

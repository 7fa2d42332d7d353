package keyring

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// redacted is what a [Secret] prints as.
const redacted = "[REDACTED]"

// Secret holds sensitive bytes (a master key, a passphrase) so that they do
// not leak by accident: it prints as "[REDACTED]" through every fmt verb,
// slog, and JSON or text encoding, compares in constant time, and can be
// zeroed. The zero Secret is empty. Copies of a Secret share its bytes, so
// [Secret.Zero] on one zeroes all.
//
// The bytes are reachable only through a function value, so that even where
// fmt cannot call Secret's methods (an unexported struct field printed with
// any verb) it prints an address, never the bytes.
type Secret struct {
	get func() []byte
}

// NewSecret returns a Secret holding a copy of b. The caller should zero b
// when done with it.
func NewSecret(b []byte) Secret {
	return secretOwning(append([]byte(nil), b...))
}

// secretOwning wraps b without copying it.
func secretOwning(b []byte) Secret { return Secret{get: func() []byte { return b }} }

// Bytes returns the secret bytes themselves (not a copy); nil for the zero
// Secret. Do not log them or keep them longer than needed.
func (s Secret) Bytes() []byte {
	if s.get == nil {
		return nil
	}
	return s.get()
}

// Equal reports whether s and o hold the same bytes, in time that depends
// only on their lengths (crypto/subtle).
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare(s.Bytes(), o.Bytes()) == 1
}

// Zero overwrites the secret bytes with zeros.
func (s Secret) Zero() {
	clear(s.Bytes())
}

// String returns "[REDACTED]".
func (Secret) String() string { return redacted }

// Format prints "[REDACTED]" for every verb, including %#v, %x and %q,
// which would otherwise bypass String.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print "[REDACTED]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]", so JSON and other encoders never see the
// bytes.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.Formatter  = Secret{}
	_ slog.LogValuer = Secret{}
)

package keyring

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what a [Secret] prints as.
const Redacted = "[REDACTED]"

// Secret holds sensitive bytes (a master key, a passphrase) so that they do
// not leak by accident: it prints as [Redacted] through every fmt verb,
// slog, and JSON or text encoding, compares in constant time, and can be
// zeroed. The zero Secret is empty. Copies of a Secret share its bytes, so
// [Secret.Zero] on one zeroes all.
type Secret struct {
	b []byte
}

// NewSecret returns a Secret holding a copy of b. The caller should zero b
// when done with it.
func NewSecret(b []byte) Secret {
	return Secret{b: append([]byte(nil), b...)}
}

// Bytes returns the secret bytes themselves (not a copy). Do not log them or
// keep them longer than needed.
func (s Secret) Bytes() []byte { return s.b }

// Len returns the length of the secret.
func (s Secret) Len() int { return len(s.b) }

// Equal reports whether s and o hold the same bytes, in time that depends
// only on their lengths (crypto/subtle).
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare(s.b, o.b) == 1
}

// Zero overwrites the secret bytes with zeros.
func (s Secret) Zero() {
	clear(s.b)
}

// String returns [Redacted].
func (Secret) String() string { return Redacted }

// GoString returns [Redacted], for %#v.
func (Secret) GoString() string { return Redacted }

// Format prints [Redacted] for every verb, including %x and %q, which would
// otherwise bypass String.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes slog print [Redacted].
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns [Redacted], so JSON and other encoders never see the
// bytes.
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.Formatter  = Secret{}
	_ slog.LogValuer = Secret{}
)

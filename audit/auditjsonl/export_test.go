package auditjsonl

// Exported for the tests of package auditjsonl_test only.

// AppendManifest appends m as one JSON line.
var AppendManifest = appendManifest

// SignedBytes returns the message m's signature covers.
func (m *Manifest) SignedBytes() []byte { return m.signedBytes() }

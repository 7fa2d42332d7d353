package auditjsonl_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

var testKey = mustKey(audit.NewHMACKey("k1", []byte("0123456789abcdef0123456789abcdef")))

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newEd25519 returns a signing key and a verifier holding only its public
// half, as an auditor would.
func newEd25519(t testing.TB) (audit.Key, audit.SignatureVerifier) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return mustKey(audit.NewEd25519Key("ed1", priv)), mustKey(audit.NewEd25519Verifier("ed1", pub))
}

// mustKey unwraps a key constructor for tests, whose keys are valid.
func mustKey[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

// mustLog unwraps audit.New for tests, whose configurations are valid.
func mustLog(l *audit.Log, err error) *audit.Log {
	if err != nil {
		panic(err)
	}
	return l
}

// computeHash returns the hash r would have as linked by a store: the
// SHA-256 of its canonical encoding.
func computeHash(r *audit.Record) ([32]byte, error) {
	c := audit.Chain{Head: audit.Head{Stream: r.Tenant, Seq: r.Seq - 1, Hash: r.Prev}}
	linked, err := c.Link(r.Entry)
	return linked.Hash, err
}

func sampleRecord() audit.Record {
	return audit.Record{
		Seq:  42,
		Prev: [32]byte{1, 2, 3},
		Entry: audit.Entry{
			ID: "0190a6d8-0000-7000-8000-000000000001", Time: time.UnixMicro(1767225600123456).UTC(),
			Tenant: "acme", Actor: "u1", ActorType: "user", Action: "record.updated",
			TargetType: "invoice", TargetID: "inv-9", Outcome: audit.Success, IP: "203.0.113.7",
			UserAgent: "curl/8", RequestID: "r-1",
			Changes: []audit.Change{{Field: "total", Old: "10", New: "12"}, {Field: "iban", Old: "[REDACTED]", New: "[REDACTED]", Redacted: true}},
			Details: map[string]string{"b": "2", "a": "1"},
		},
	}
}

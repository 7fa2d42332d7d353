package audit_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

var testKey = mustKey(audit.NewHMACKey("k1", []byte("0123456789abcdef0123456789abcdef")))

// buildLog returns n linked records of one stream and signed checkpoints
// every `every` records and at the head, as a Log would write them.
func buildLog(t testing.TB, n, every int) ([]audit.Record, []audit.Checkpoint) {
	c := audit.Chain{Head: audit.Head{Stream: "t"}}
	recs := make([]audit.Record, 0, n)
	var cps []audit.Checkpoint
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r, err := c.Link(audit.Entry{ID: fmt.Sprintf("id-%d", i), Time: base.Add(time.Duration(i) * time.Millisecond),
			Tenant: "t", Actor: fmt.Sprintf("u%d", i%7), Action: "record.updated", Outcome: audit.Success,
			Changes: []audit.Change{{Field: "n", Old: fmt.Sprint(i), New: fmt.Sprint(i + 1)}}})
		require.NoError(t, err)
		recs = append(recs, r)
		if (i+1)%every == 0 || i == n-1 {
			cps = append(cps, sign(t, audit.Checkpoint{Stream: "t", Seq: r.Seq, Hash: r.Hash, Time: base}))
		}
	}
	return recs, cps
}

func sign(t testing.TB, cp audit.Checkpoint) audit.Checkpoint {
	cp.KeyID = testKey.KeyID()
	sig, err := testKey.Sign(context.Background(), cp.SignedBytes())
	require.NoError(t, err)
	cp.Signature = sig
	return cp
}

// TestTamperProperty: any single mutation, deletion, insertion, reordering
// or truncation of a 10,000-event log is detected, reported as a
// ChainError at or before the damaged position.
func TestTamperProperty(t *testing.T) {
	t.Parallel()
	const n = 10_000
	recs, cps := buildLog(t, n, 1000)
	start := audit.Head{Stream: "t"}
	require.NoError(t, audit.VerifyRecords(start, recs, cps, testKey))

	rng := rand.New(rand.NewPCG(1, 2))
	clone := func() []audit.Record {
		out := make([]audit.Record, len(recs))
		copy(out, recs)
		return out
	}
	type tamper func(rs []audit.Record, i int) []audit.Record
	fields := []func(r *audit.Record){
		func(r *audit.Record) { r.Actor += "x" },
		func(r *audit.Record) { r.Time = r.Time.Add(time.Microsecond) },
		func(r *audit.Record) { r.Outcome = audit.Failure },
		func(r *audit.Record) { r.Changes = []audit.Change{{Field: "n", Old: "0", New: "999"}} },
		func(r *audit.Record) { r.Hash[rng.IntN(32)] ^= 1 << rng.IntN(8) },
		func(r *audit.Record) { r.Prev[rng.IntN(32)] ^= 1 },
		func(r *audit.Record) { r.Seq++ },
		func(r *audit.Record) { r.Tenant = "u" },
		func(r *audit.Record) { r.IP = "198.51.100.1" },
	}
	tampers := map[string]tamper{
		"mutate": func(rs []audit.Record, i int) []audit.Record {
			fields[rng.IntN(len(fields))](&rs[i])
			return rs
		},
		"mutate and rehash": func(rs []audit.Record, i int) []audit.Record {
			// An attacker who rewrites one record and recomputes every hash
			// after it: only the signed checkpoints catch this.
			rs[i].Actor = "mallory"
			c := audit.Chain{Head: audit.Head{Stream: "t", Seq: rs[i].Seq - 1, Hash: rs[i].Prev}}
			for j := i; j < len(rs); j++ {
				r, err := c.Link(rs[j].Entry)
				require.NoError(t, err)
				rs[j] = r
			}
			return rs
		},
		"delete": func(rs []audit.Record, i int) []audit.Record {
			return append(rs[:i], rs[i+1:]...)
		},
		"insert": func(rs []audit.Record, i int) []audit.Record {
			forged := rs[i]
			forged.ID += "-forged"
			h, err := forged.ComputeHash()
			require.NoError(t, err)
			forged.Hash = h
			return append(rs[:i], append([]audit.Record{forged}, rs[i:]...)...)
		},
		"duplicate": func(rs []audit.Record, i int) []audit.Record {
			return append(rs[:i+1], rs[i:]...)
		},
		"reorder": func(rs []audit.Record, i int) []audit.Record {
			j := rng.IntN(len(rs))
			for j == i {
				j = rng.IntN(len(rs))
			}
			rs[i], rs[j] = rs[j], rs[i]
			return rs
		},
		"truncate": func(rs []audit.Record, i int) []audit.Record {
			return rs[:i]
		},
	}
	for name, tm := range tampers {
		trials := 25
		if name == "mutate and rehash" {
			trials = 4
		}
		for range trials {
			i := rng.IntN(n)
			if name == "mutate and rehash" && i < 10 {
				i = 10
			}
			bad := tm(clone(), i)
			err := audit.VerifyRecords(start, bad, cps, testKey)
			require.Error(t, err, "%s at %d not detected", name, i)
			var ce *audit.ChainError
			require.True(t, errors.As(err, &ce), "%s: %v", name, err)
			require.ErrorIs(t, err, audit.ErrTampered)
			if name != "mutate and rehash" && name != "truncate" {
				require.LessOrEqual(t, ce.Seq, uint64(i+2), "%s at %d reported at %d", name, i, ce.Seq)
			}
		}
	}
	// A forged checkpoint signature is rejected too.
	badCP := append([]audit.Checkpoint(nil), cps...)
	badCP[3].Seq++
	var ce *audit.ChainError
	require.ErrorAs(t, audit.VerifyRecords(start, recs, badCP, testKey), &ce)
	require.Equal(t, audit.ProblemSignature, ce.Problem)
}

func TestSigners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ed := newEd25519(t)
	for _, s := range []interface {
		audit.Signer
		audit.SignatureVerifier
	}{testKey, ed} {
		sig, err := s.Sign(ctx, []byte("msg"))
		require.NoError(t, err)
		require.True(t, s.VerifySignature(s.KeyID(), []byte("msg"), sig))
		require.False(t, s.VerifySignature(s.KeyID(), []byte("msh"), sig))
		require.False(t, s.VerifySignature("other", []byte("msg"), sig))
		require.True(t, audit.Verifiers(nil, testKey, ed).VerifySignature(s.KeyID(), []byte("msg"), sig))
	}
	_, err := audit.NewHMACKey("short", []byte("short"))
	require.ErrorIs(t, err, audit.ErrWeakKey)
	_, err = audit.NewEd25519Key("bad", ed25519.PrivateKey("short"))
	require.Error(t, err)
	_, err = audit.NewEd25519Verifier("bad", ed25519.PublicKey("short"))
	require.Error(t, err)
}

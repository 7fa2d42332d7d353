package audit_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

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

func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	r := sampleRecord()
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, byte(audit.EncodingVersion), b[0])
	var got audit.Record
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, r, got)
	b2, err := got.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, b2, "encoding is canonical")
	h, err := r.ComputeHash()
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(b), h)
}

func TestBinaryEveryFieldCounts(t *testing.T) {
	t.Parallel()
	base := sampleRecord()
	h0, err := base.ComputeHash()
	require.NoError(t, err)
	mutations := map[string]func(r *audit.Record){
		"seq":        func(r *audit.Record) { r.Seq++ },
		"prev":       func(r *audit.Record) { r.Prev[31] ^= 1 },
		"time":       func(r *audit.Record) { r.Time = r.Time.Add(time.Microsecond) },
		"tenant":     func(r *audit.Record) { r.Tenant = "acme2" },
		"id":         func(r *audit.Record) { r.ID += "x" },
		"actor":      func(r *audit.Record) { r.Actor = "u2" },
		"actor type": func(r *audit.Record) { r.ActorType = audit.ActorSystem },
		"action":     func(r *audit.Record) { r.Action = "record.deleted" },
		"target":     func(r *audit.Record) { r.TargetType, r.TargetID = "invoic", "einv-9" },
		"outcome":    func(r *audit.Record) { r.Outcome = audit.Failure },
		"ip":         func(r *audit.Record) { r.IP = "203.0.113.8" },
		"ua":         func(r *audit.Record) { r.UserAgent = "" },
		"request":    func(r *audit.Record) { r.RequestID = "r-2" },
		"change":     func(r *audit.Record) { r.Changes[0].New = "13" },
		"redacted":   func(r *audit.Record) { r.Changes[1].Redacted = false },
		"no changes": func(r *audit.Record) { r.Changes = nil },
		"detail":     func(r *audit.Record) { r.Details = map[string]string{"a": "1", "b": "3"} },
		"shifted":    func(r *audit.Record) { r.Details = map[string]string{"a": "1b", "": "2"} },
	}
	for name, mut := range mutations {
		r := sampleRecord()
		r.Changes = append([]audit.Change(nil), r.Changes...)
		mut(&r)
		h, err := r.ComputeHash()
		require.NoError(t, err, name)
		require.NotEqual(t, h0, h, name)
	}
}

func TestBinaryRejects(t *testing.T) {
	t.Parallel()
	r := sampleRecord()
	good, err := r.MarshalBinary()
	require.NoError(t, err)
	cases := map[string][]byte{
		"empty":    {},
		"version":  append([]byte{2}, good[1:]...),
		"trailing": append(append([]byte{}, good...), 0),
		"cut":      good[:len(good)-1],
		"huge count": func() []byte {
			r := sampleRecord()
			r.Changes, r.Details = nil, nil
			b, _ := r.MarshalBinary()
			b = b[:len(b)-2]
			return append(b, 0xff, 0xff, 0xff, 0xff, 0x0f)
		}(),
	}
	for name, b := range cases {
		var got audit.Record
		require.ErrorIs(t, got.UnmarshalBinary(b), audit.ErrMalformed, name)
	}
	bad := sampleRecord()
	bad.Actor = "\xff"
	_, err = bad.MarshalBinary()
	require.ErrorIs(t, err, audit.ErrMalformed)
}

func FuzzRecordDecode(f *testing.F) {
	r := sampleRecord()
	good, _ := r.MarshalBinary()
	f.Add(good)
	f.Add([]byte{1})
	f.Add([]byte{1, 0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r audit.Record
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decode/encode not canonical:\n in %x\nout %x", b, again)
		}
	})
}

package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func recordSeed() session.Session {
	t0 := time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.UTC)
	return session.Session{
		ID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", UserID: "user-42", CreatedAt: t0, LastSeen: t0.Add(time.Minute),
		ExpiresAt: t0.Add(11 * time.Minute), AbsoluteExpiry: t0.Add(12 * time.Hour), AuthTime: t0,
		Factors: []string{"password", "totp"}, IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		RememberFamily: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
	}
}

func TestSessionRecordRoundTrip(t *testing.T) {
	t.Parallel()
	full := recordSeed()
	minimal := session.Session{ID: "i", UserID: "u", CreatedAt: full.CreatedAt, ExpiresAt: full.ExpiresAt}
	odd := full
	odd.UserID, odd.UserAgent, odd.Factors = "a:b\x1fc", "12:34:", []string{"", "x"}
	closing := full
	closing.Closing = full.LastSeen.Add(time.Second)
	for name, s := range map[string]session.Session{"full": full, "minimal": minimal, "separators in values": odd, "closing": closing} {
		s.TokenHash = [32]byte{1, 2, 3}
		rec, err := redisstore.EncodeSession(&s)
		require.NoError(t, err, name)
		got, err := redisstore.DecodeSession(rec, s.TokenHash)
		require.NoError(t, err, name)
		require.Equal(t, s, got, name)
	}
	before := full
	before.AuthTime = time.Unix(-5, 0)
	_, err := redisstore.EncodeSession(&before)
	require.Error(t, err, "a time before 1970 has no encoding")
	before = full
	before.Closing = time.Unix(-5, 0)
	_, err = redisstore.EncodeSession(&before)
	require.Error(t, err, "a closing mark before 1970 has no encoding")
	// A version 1 record (before the closing mark) is refused, not misread.
	rec, err := redisstore.EncodeSession(&full)
	require.NoError(t, err)
	_, err = redisstore.DecodeSession("1"+rec[1:len(rec)-16], [32]byte{})
	require.Error(t, err)
}

// FuzzSessionRecord: the decoder never panics, and what it accepts is
// exactly what the encoder writes for the decoded session (one canonical
// form, so no two byte strings mean the same session).
func FuzzSessionRecord(f *testing.F) {
	s := recordSeed()
	rec, err := redisstore.EncodeSession(&s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add("")
	f.Add("1")
	f.Add(rec[:81] + "0:0:0:0:0:0:" + strings.Repeat("0", 16))
	f.Add(rec[:81] + "01:a1:b0:0:0:0:" + strings.Repeat("0", 16))
	f.Add(rec[:81] + "1:a1:b0:0:0:0:" + strings.Repeat("0", 15) + "1")
	f.Add(rec + "x")
	f.Add(rec[:len(rec)-16])
	f.Add("1" + rec[1:len(rec)-16])
	f.Fuzz(func(t *testing.T, rec string) {
		s, err := redisstore.DecodeSession(rec, [32]byte{})
		if err != nil {
			return
		}
		if s.ID == "" || s.UserID == "" {
			t.Fatal("accepted a session naming no user")
		}
		again, err := redisstore.EncodeSession(&s)
		if err != nil {
			t.Fatal(err)
		}
		if again != rec {
			t.Fatalf("not canonical: %q re-encodes as %q", rec, again)
		}
	})
}

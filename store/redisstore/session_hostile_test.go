package redisstore_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// hostileString is a string built to shift the record's fields: colons,
// digits, length prefixes, the separator of factors, whole records of
// another session, and long runs.
func hostileString(r *rand.Rand, victim string) string {
	parts := []string{":", "0", "9", "12:", "99999:", "\x1f", "2", "ffffffffffffffff", "0000000000000000",
		victim, victim[:len(victim)/2], "{s1}", "}", "{", "\x00", "é", "36:", "5:alice"}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	if r.IntN(8) == 0 {
		b.WriteString(strings.Repeat("7:", 1+r.IntN(40000)))
	}
	return b.String()
}

// Hostile user ids, user agents and addresses go through the Go encoder,
// every Lua script that parses the record (touch, mark closing, list,
// revoke, revoke all, delete) and back through the Go decoder on a real
// Redis: no field read by a script may differ from what Go wrote, and no
// operation on the attacker's sessions may reach the victim's.
func TestSessionHostileFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	st := redisstore.New(c, prefix).Session()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

	placed := func(user string) [32]byte {
		var h [32]byte
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		h[0] = st.(session.TokenPlacer).TokenByte(user)
		return h
	}
	mk := func(id, user, ip, ua string, fam string) session.Session {
		return session.Session{
			ID: id, TokenHash: placed(user), UserID: user,
			CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour), AbsoluteExpiry: t0.Add(12 * time.Hour),
			AuthTime: t0, Factors: []string{"password", "totp"}, IP: ip, UserAgent: ua, RememberFamily: fam,
		}
	}
	get := func(s session.Session, now time.Time) session.Session {
		t.Helper()
		got, err := st.Get(ctx, s.TokenHash, now)
		require.NoError(t, err)
		return got
	}

	for i := range 60 {
		victim := mk("victim-id", "alice", "10.0.0.1", "Mozilla/5.0", "victim-fam")
		rec, err := redisstore.EncodeSession(&victim)
		require.NoError(t, err)
		user := hostileString(r, rec)
		if user == "" || user == "alice" {
			user = "x" + user
		}
		att := mk(hostileString(r, rec)+"a", user, hostileString(r, rec), hostileString(r, rec), hostileString(r, rec))
		if r.IntN(2) == 0 {
			att.ID = victim.ID // same id, other user: must not name the victim's session
		}
		if r.IntN(3) == 0 {
			att.RememberFamily = victim.RememberFamily
		}
		for _, s := range []session.Session{victim, att} {
			_, err := st.Create(ctx, &s, session.Limit{}, [32]byte{})
			require.NoError(t, err, "iteration %d", i)
			require.Equal(t, s, get(s, t0), "iteration %d: read back", i)
		}

		// Touch moves only the attacker's last seen and expiry.
		now := t0.Add(time.Minute)
		require.NoError(t, st.Touch(ctx, att.TokenHash, now, now.Add(time.Hour)))
		want := att
		want.LastSeen, want.ExpiresAt = now, now.Add(time.Hour)
		require.Equal(t, want, get(att, now), "iteration %d: touch", i)
		// The tab-close mark sets only the closing mark and the expiry.
		closing := now.Add(time.Second)
		require.NoError(t, st.MarkClosing(ctx, att.TokenHash, now, closing, closing.Add(10*time.Second)))
		want.Closing, want.ExpiresAt = closing, closing.Add(10*time.Second)
		require.Equal(t, want, get(att, now), "iteration %d: mark closing", i)
		require.Equal(t, victim, get(victim, now), "iteration %d: victim after touch", i)

		list, err := st.List(ctx, user, now)
		require.NoError(t, err)
		require.Equal(t, []session.Session{want}, list, "iteration %d: list", i)
		list, err = st.List(ctx, "alice", now)
		require.NoError(t, err)
		require.Equal(t, []session.Session{victim}, list, "iteration %d: victim's list", i)

		// Revocations by the attacker's user reach only the attacker's sessions.
		if att.ID != victim.ID {
			require.ErrorIs(t, st.Revoke(ctx, user, victim.ID), session.ErrNotFound)
		}
		n, err := st.RevokeUser(ctx, user, "")
		require.NoError(t, err)
		require.Equal(t, 1, n, "iteration %d: revoke all", i)
		_, err = st.Create(ctx, &att, session.Limit{}, [32]byte{})
		require.NoError(t, err)
		require.NoError(t, st.Revoke(ctx, user, att.ID))
		_, err = st.Create(ctx, &att, session.Limit{}, [32]byte{})
		require.NoError(t, err)
		got, err := st.Delete(ctx, att.TokenHash)
		require.NoError(t, err)
		require.Equal(t, att, got, "iteration %d: delete", i)
		_, err = st.Get(ctx, att.TokenHash, now)
		require.ErrorIs(t, err, session.ErrNotFound)

		require.Equal(t, victim, get(victim, now), "iteration %d: victim at the end", i)
		list, err = st.List(ctx, "alice", now)
		require.NoError(t, err)
		require.Equal(t, []session.Session{victim}, list, "iteration %d: victim's list at the end", i)
		got, err = st.Delete(ctx, victim.TokenHash)
		require.NoError(t, err)
		require.Equal(t, victim, got)
	}
}

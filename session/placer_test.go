package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// placingStore is a memstore that asks for tokens placed by user: the
// first byte of every token hash of a user is the user id's length.
type placingStore struct{ session.Store }

func (placingStore) TokenByte(userID string) byte { return byte(len(userID)) }

// A store that is a TokenPlacer gets session and remember-me tokens whose
// hashes start with the user's byte, through login, rotation and resume;
// a store that is not gets tokens as before.
func TestTokenPlacement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := mustNew(t, placingStore{memstore.NewSessionStore()}, session.Config{RememberMe: true, MaxSessions: session.Unlimited})
	for _, user := range []string{"a", "user-42", "someone@example.com"} {
		want := byte(len(user))
		iss, err := m.Create(ctx, user, session.Login{Remember: true})
		require.NoError(t, err)
		rot, err := m.Rotate(ctx, iss.Token, nil)
		require.NoError(t, err)
		res, err := m.Resume(ctx, iss.RememberToken, session.Login{})
		require.NoError(t, err)
		for _, tok := range []string{iss.Token, iss.RememberToken, rot.Token, res.Token, res.RememberToken} {
			h, ok := session.HashToken(tok)
			require.True(t, ok)
			require.Equal(t, want, h[0], "user %q", user)
		}
		s, err := m.Validate(ctx, res.Token)
		require.NoError(t, err)
		require.Equal(t, user, s.UserID)
	}
}

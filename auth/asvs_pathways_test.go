package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

// TestPasswordPathwaysShareOneLockout: ASVS 5.0 6.1.3 and 6.3.4. The three
// ways to check a password (Login, ChangePassword, Reauthenticate) count
// against one lockout per account, so none is a side door for guessing:
// failures through one lock the others.
func TestPasswordPathwaysShareOneLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	guess := map[string]func(e *env, password string) error{
		"login": func(e *env, pw string) error {
			_, err := e.a.Login(ctx, "JanKowalski37", pw, client)
			return err
		},
		"change": func(e *env, pw string) error {
			return e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: pw, New: "brand new password"}, client)
		},
		"reauth": func(e *env, pw string) error {
			_, err := e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: pw}, client)
			return err
		},
	}
	for via, wrong := range guess {
		for then, right := range guess {
			t.Run(via+"_then_"+then, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, nil)
				e.addUser("u1", "JanKowalski37", "old password")
				for range auth.DefaultFailureFactor {
					require.ErrorIs(t, wrong(e, "wrong"), auth.ErrInvalidCredentials)
				}
				require.ErrorIs(t, right(e, "old password"), auth.ErrInvalidCredentials,
					"%d failures through %s must lock %s", auth.DefaultFailureFactor, via, then)
			})
		}
	}
}

package authtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/bulwarkhq/bulwark/auth"
)

// RunCredentials checks a reference users table ([auth.CredentialStore])
// as store/memstore and store/sqlstore provide: lookup by id, email and
// login (username or email, both case-insensitive), [auth.ErrNotFound] for
// unknown users, [auth.ErrTaken] for a duplicate id, username or email
// (exactly one of many concurrent creations wins), and SetPasswordHash.
// A host's own table, whose rules may differ, need not pass it.
func RunCredentials(t *testing.T, newStore func(t *testing.T) auth.CredentialStore) {
	ctx := context.Background()
	jan := auth.User{ //nolint:gosec // G101: a made-up hash for a test row
		ID: "0190a0b0-0000-7000-8000-000000000001", Username: "JanKowalski37", Email: "Jan@Example.com",
		PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", MFARequired: true}
	t.Run("FindUser", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateUser(ctx, jan), "CreateUser")
		for _, q := range []struct {
			by auth.Lookup
			v  string
		}{
			{auth.ByID, jan.ID}, {auth.ByEmail, "jan@example.com"}, {auth.ByEmail, " JAN@example.COM "},
			{auth.ByLogin, "jankowalski37"}, {auth.ByLogin, "JanKowalski37"}, {auth.ByLogin, "jan@example.com"},
		} {
			u, err := s.FindUser(ctx, q.by, q.v)
			noErr(t, err, fmt.Sprintf("FindUser(%d, %q)", q.by, q.v))
			if u != jan {
				t.Fatalf("FindUser(%d, %q) = %+v, want %+v", q.by, q.v, u, jan)
			}
		}
		for _, q := range []struct {
			by auth.Lookup
			v  string
		}{
			{auth.ByID, "nobody"}, {auth.ByEmail, "nobody@example.com"}, {auth.ByLogin, "Nobody12"},
			{auth.ByLogin, ""}, {auth.ByEmail, ""}, {auth.ByID, ""}, {auth.ByEmail, jan.Username}, {auth.ByID, jan.Username},
		} {
			_, err := s.FindUser(ctx, q.by, q.v)
			isNotFound(t, err, fmt.Sprintf("FindUser(%d, %q)", q.by, q.v))
		}
	})
	t.Run("Taken", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateUser(ctx, jan), "CreateUser")
		for _, u := range []auth.User{
			{ID: jan.ID, Username: "Other11", Email: "other@example.com"},
			{ID: "id-2", Username: "jankowalski37", Email: "other@example.com"},
			{ID: "id-3", Username: "Other11", Email: "JAN@example.com"},
		} {
			if err := s.CreateUser(ctx, u); !errors.Is(err, auth.ErrTaken) {
				t.Fatalf("CreateUser(%+v) = %v, want auth.ErrTaken", u, err)
			}
		}
		ids := make(chan string, contenders)
		for i := range contenders {
			ids <- fmt.Sprintf("race-%d", i)
		}
		exactlyOne(t, "CreateUser", auth.ErrTaken, func() error {
			return s.CreateUser(ctx, auth.User{ID: <-ids, Username: "Racer99", Email: "racer@example.com"})
		})
	})
	t.Run("SetPasswordHash", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		noErr(t, s.CreateUser(ctx, jan), "CreateUser")
		noErr(t, s.SetPasswordHash(ctx, jan.ID, "new-hash"), "SetPasswordHash")
		u, err := s.FindUser(ctx, auth.ByID, jan.ID)
		noErr(t, err, "FindUser")
		if u.PasswordHash != "new-hash" || u.Email != jan.Email || u.Username != jan.Username {
			t.Fatalf("after SetPasswordHash: %+v", u)
		}
		isNotFound(t, s.SetPasswordHash(ctx, "nobody", "h"), "SetPasswordHash(unknown)")
	})
}

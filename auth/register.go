package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Registration is a sign-up request.
type Registration struct {
	FirstName string
	LastName  string
	Email     string
	Password  string
}

// Register creates an account: it checks the password against the policy
// (with the names and the email as context words, ASVS 5.0 6.2.11), hashes
// it, generates a unique username ([GenerateUsername]) and a UUIDv7 user id,
// and asks the host's [CredentialStore] to create the user. The user learns
// their username from the [NotifyAccountCreated] notification.
//
// Register does not reveal whether the email is already registered (ASVS
// 5.0 6.3.8): when CreateUser reports [ErrTaken], the username is released,
// the address's owner gets a [NotifyRegisterAttempt] notification, and
// Register returns nil after the same work as a real sign-up. Only input
// problems ([ErrInvalidName], a policy error) and system failures are
// returned, and they do not depend on existing accounts.
func (a *Authenticator) Register(ctx context.Context, r Registration, c Client) error {
	if _, err := UsernameBase(r.FirstName, r.LastName); err != nil {
		return err
	}
	if err := a.cfg.Policy.Check(ctx, r.Password, r.FirstName, r.LastName, r.Email); err != nil {
		return fmt.Errorf("auth: password policy: %w", err)
	}
	hash, err := a.cfg.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return fmt.Errorf("auth: hash: %w", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	username, err := GenerateUsername(ctx, a.store, r.FirstName, r.LastName, id, a.now(), a.cfg.Rand)
	if err != nil {
		return err
	}
	u := User{ID: id, Username: username, Email: strings.TrimSpace(r.Email), PasswordHash: hash}
	err = a.cfg.Credentials.CreateUser(ctx, u)
	switch {
	case errors.Is(err, ErrTaken):
		if err := a.store.Release(ctx, ClaimUsername, UsernameKey(username), id); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("auth: release username: %w", err)
		}
		owner, found, err := a.findUser(ctx, ByEmail, u.Email)
		if err != nil {
			return err
		}
		if err := a.emit(ctx, Event{Type: EventRegistered, Outcome: Failure, UserID: owner.ID, Reason: "taken"}, c); err != nil {
			return err
		}
		if found {
			a.notify(ctx, Notification{Type: NotifyRegisterAttempt, UserID: owner.ID}, c)
		}
		return nil
	case err != nil:
		_ = a.store.Release(ctx, ClaimUsername, UsernameKey(username), id)
		return fmt.Errorf("auth: create user: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventRegistered, UserID: id}, c); err != nil {
		return err
	}
	a.rememberDevice(ctx, id, c)
	a.notify(ctx, Notification{Type: NotifyAccountCreated, UserID: id, Username: username}, c)
	return nil
}

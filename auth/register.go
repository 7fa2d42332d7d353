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
// 5.0 6.3.8): when CreateUser reports [ErrTaken] and an account has the
// address, the username is released, the address's owner gets a
// [NotifyRegisterAttempt] notification, and Register returns nil after the
// same store work as a real sign-up: the same lookup by email and release
// (decoys on the success path) and the same two device claims (bound, on
// the taken path, to the user id that was never created). When no account has the address, the taken
// value was the username (the host's table knew it, the claim store did
// not): another number is tried, up to 5 times. Hosts with users from
// before auth should claim their usernames once (see [GenerateUsername]). Only input
// problems ([ErrInvalidName], a policy error) and system failures are
// returned, and they do not depend on existing accounts.
func (a *Authenticator) Register(ctx context.Context, r Registration, c Client) error {
	if _, err := usernameBase(r.FirstName, r.LastName); err != nil {
		return err
	}
	if err := a.deps.Policy.Check(ctx, r.Password, r.FirstName, r.LastName, r.Email); err != nil {
		return fmt.Errorf("auth: password policy: %w", err)
	}
	hash, err := a.deps.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return fmt.Errorf("auth: hash: %w", err)
	}
	uid, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("auth: user id: %w", err)
	}
	id := uid.String()
	email := strings.TrimSpace(r.Email)
	var username string
	for try := 0; ; try++ {
		if username, err = GenerateUsername(ctx, a.store, r.FirstName, r.LastName, id, a.now(), a.cfg.Rand); err != nil {
			return err
		}
		err = a.deps.Users.CreateUser(ctx, User{ID: id, Username: username, Email: email, PasswordHash: hash})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrTaken) {
			_ = a.store.Release(ctx, claimUsername, UsernameKey(username), id)
			return fmt.Errorf("auth: create user: %w", err)
		}
		owner, found, ferr := a.findUser(ctx, ByEmail, email)
		if ferr != nil {
			return ferr
		}
		if found {
			return a.registerTaken(ctx, owner, username, id, c)
		}
		// (Every path above costs one claim of a username, one CreateUser,
		// one FindUser by email and one Release; the success path below
		// makes its lookup and release as decoys.)
		// The host's table already has this username (an account from
		// before auth, or made elsewhere): the claim stays, so it is not
		// drawn again, and another number is tried.
		if try == registerTries-1 {
			return fmt.Errorf("auth: create user: %w", err)
		}
	}
	// Decoys for the store work of the taken path, so that the two cost the
	// same: the same lookup by email, and a Release of a claim nobody holds.
	if _, _, err := a.findUser(ctx, ByEmail, email); err != nil {
		return err
	}
	if err := a.store.Release(ctx, claimUsername, decoyClaimKey, id); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("auth: release: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventRegistered, UserID: id}, c); err != nil {
		return err
	}
	a.rememberDevice(ctx, id, c)
	a.notify(ctx, Notification{Type: NotifyAccountCreated, UserID: id, Username: username}, c)
	return nil
}

// decoyClaimKey is a claim key no username can have (UsernameKey never
// returns a leading space), released as a decoy by a successful sign-up.
const decoyClaimKey = " decoy"

// registerTries bounds the usernames tried when the host's table reports
// one taken that the claim store did not know.
const registerTries = 5

// registerTaken answers a sign-up with a registered address like a
// successful one: the username is released and the owner is told.
func (a *Authenticator) registerTaken(ctx context.Context, owner User, username, id string, c Client) error {
	if err := a.store.Release(ctx, claimUsername, UsernameKey(username), id); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("auth: release username: %w", err)
	}
	if err := a.emit(ctx, Event{Type: EventRegistered, Outcome: outcomeFailure, UserID: owner.ID, Reason: "taken"}, c); err != nil {
		return err
	}
	// The same claim writes as a new account's device and address, bound
	// to the id that was never created: a new sign-up makes them too.
	a.rememberDevice(ctx, id, c)
	a.notify(ctx, Notification{Type: NotifyRegisterAttempt, UserID: owner.ID}, c)
	return nil
}

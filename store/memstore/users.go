package memstore

import (
	"context"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/auth"
)

var _ auth.CredentialStore = (*userStore)(nil)

// userStore is an in-memory users table, a reference [auth.CredentialStore]
// so that a host can start before it has its own. Usernames are unique as
// auth.UsernameKey folds them, email addresses case-insensitively; ByLogin
// finds a user by either. It is safe for concurrent use.
type userStore struct {
	mu      sync.Mutex
	byID    map[string]auth.User
	byName  map[string]string // auth.UsernameKey -> id
	byEmail map[string]string // emailKey -> id
}

// NewUserStore returns an empty in-memory users table, an [auth.CredentialStore].
func NewUserStore() auth.CredentialStore {
	return &userStore{byID: map[string]auth.User{}, byName: map[string]string{}, byEmail: map[string]string{}}
}

func emailKey(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// FindUser implements [auth.CredentialStore].
func (s *userStore) FindUser(_ context.Context, by auth.Lookup, value string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id string
	var ok bool
	switch by {
	case auth.ByID:
		id, ok = value, true
	case auth.ByEmail:
		id, ok = s.byEmail[emailKey(value)]
	case auth.ByLogin:
		if id, ok = s.byName[auth.UsernameKey(value)]; !ok {
			id, ok = s.byEmail[emailKey(value)]
		}
	}
	u, found := s.byID[id]
	if !ok || !found || value == "" {
		return auth.User{}, auth.ErrNotFound
	}
	return u, nil
}

// CreateUser implements [auth.CredentialStore]: [auth.ErrTaken] when the
// id, the username or the email address exists.
func (s *userStore) CreateUser(_ context.Context, u auth.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	nk, ek := auth.UsernameKey(u.Username), emailKey(u.Email)
	_, idTaken := s.byID[u.ID]
	_, nameTaken := s.byName[nk]
	_, emailTaken := s.byEmail[ek]
	if idTaken || (nk != "" && nameTaken) || (ek != "" && emailTaken) {
		return auth.ErrTaken
	}
	s.byID[u.ID] = u
	if nk != "" {
		s.byName[nk] = u.ID
	}
	if ek != "" {
		s.byEmail[ek] = u.ID
	}
	return nil
}

// SetPasswordHash implements [auth.CredentialStore]; [auth.ErrNotFound]
// for an unknown user.
func (s *userStore) SetPasswordHash(_ context.Context, userID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		return auth.ErrNotFound
	}
	u.PasswordHash = hash
	s.byID[userID] = u
	return nil
}

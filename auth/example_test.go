package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func ExampleGenerateUsername_transliteration() {
	ctx := context.Background()
	st := memstore.NewAuthStore()
	for i, name := range [][2]string{{"Łukasz", "Żółć"}, {"Jürgen", "Weiß-Øster"}, {"Иван", "Петров"}} {
		u, err := auth.GenerateUsername(ctx, st, name[0], name[1], fmt.Sprint("user-", i), time.Now(), nil)
		if err != nil {
			panic(err)
		}
		fmt.Println(strings.TrimRight(u, "0123456789"))
	}
	// Output:
	// LukaszZolc
	// JurgenWeissOster
	// IvanPetrov
}

func ExampleGenerateUsername() {
	ctx := context.Background()
	st := memstore.NewAuthStore()
	name, err := auth.GenerateUsername(ctx, st, "Jan", "Kowalski", "user-1", time.Now(), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(name, "JanKowalski"), len(name) == len("JanKowalski37"))
	// Output: true true
}

func ExampleLockoutPolicy() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	users := &exampleUsers{m: map[string]auth.User{"u1": {ID: "u1", Username: "Ada", PasswordHash: "v1$right"}}}
	a, err := auth.New(auth.Deps{
		Store: memstore.NewAuthStore(), Users: users, Hasher: fakeHasher{}, Policy: fakePolicy{},
		Sessions: &fakeSessions{live: map[string]fakeSession{}},
	}, auth.Config{
		// 3 failures in a row lock for 1 minute, 6 for 2, ... at most 15
		// (the defaults: 5 failures, +1 minute, at most 15 minutes).
		Lockout: auth.LockoutPolicy{FailureFactor: 3},
		Now:     func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	browser := auth.Client{Binding: "hash-of-prelogin-cookie"}
	for range 3 {
		_, _ = a.Login(ctx, "Ada", "wrong", browser)
	}
	_, err = a.Login(ctx, "Ada", "right", browser)
	fmt.Println("locked, even for the right password:", errors.Is(err, auth.ErrInvalidCredentials))
	now = now.Add(time.Minute + time.Second)
	_, err = a.Login(ctx, "Ada", "right", browser)
	fmt.Println("a minute later:", err == nil)
	// Output:
	// locked, even for the right password: true
	// a minute later: true
}

// exampleUsers is a tiny users table for the example.
type exampleUsers struct {
	mu sync.Mutex
	m  map[string]auth.User
}

func (u *exampleUsers) FindUser(_ context.Context, by auth.Lookup, v string) (auth.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.m {
		if (by == auth.ByLogin && strings.EqualFold(x.Username, v)) || (by == auth.ByEmail && x.Email == v) || (by == auth.ByID && x.ID == v) {
			return x, nil
		}
	}
	return auth.User{}, auth.ErrNotFound
}

func (u *exampleUsers) CreateUser(_ context.Context, x auth.User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[x.ID] = x
	return nil
}

func (u *exampleUsers) SetPasswordHash(_ context.Context, id, h string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	x := u.m[id]
	x.PasswordHash = h
	u.m[id] = x
	return nil
}

func ExampleAuthenticator() {
	ctx := context.Background()
	var username string
	a, err := auth.New(auth.Deps{
		Store:    memstore.NewAuthStore(),                       // sqlstore or redisstore in production
		Users:    &exampleUsers{m: map[string]auth.User{}},      // the host's users table
		Hasher:   fakeHasher{},                                  // password's *Hasher in production
		Policy:   fakePolicy{},                                  // password's Policy
		Sessions: &fakeSessions{live: map[string]fakeSession{}}, // an adapter over session's *Manager
		Notifier: auth.NotifierFunc(func(_ context.Context, n auth.Notification) error {
			if n.Type == auth.NotifyAccountCreated {
				username = n.Username // the host emails it to the user
			}
			return nil
		}),
	}, auth.Config{}) // the zero Config: every default
	if err != nil {
		panic(err)
	}
	browser := auth.Client{IP: "192.0.2.10", UserAgent: "Firefox", Binding: "hash-of-prelogin-cookie"}

	err = a.Register(ctx, auth.Registration{FirstName: "Łukasz", LastName: "Żółć", Email: "lz@example.com", Password: "a long passphrase"}, browser)
	fmt.Println("registered:", err == nil, strings.HasPrefix(username, "LukaszZolc"))

	_, err = a.Login(ctx, username, "wrong guess", browser)
	fmt.Println("wrong password:", errors.Is(err, auth.ErrInvalidCredentials))
	_, err = a.Login(ctx, "NoSuchUser1", "wrong guess", browser)
	fmt.Println("unknown user:", errors.Is(err, auth.ErrInvalidCredentials))

	res, err := a.Login(ctx, username, "a long passphrase", browser)
	fmt.Println("logged in:", err == nil, res.Next == auth.StepDone, res.Session.Token != "")
	// Output:
	// registered: true true
	// wrong password: true
	// unknown user: true
	// logged in: true true true
}

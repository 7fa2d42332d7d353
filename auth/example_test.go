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

func ExampleTransliterate() {
	fmt.Println(auth.Transliterate("Łukasz Żółć"))
	base, _ := auth.UsernameBase("Jürgen", "Weiß-Øster")
	fmt.Println(base)
	// Output:
	// Lukasz Zolc
	// JurgenWeissOster
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
	var p auth.LockoutPolicy // defaults: 5 failures per step, +1 min, at most 15 min
	for _, n := range []int{4, 5, 10, 200} {
		fmt.Printf("after %d failures: wait %v\n", n, p.Wait(n))
	}
	// Output:
	// after 4 failures: wait 0s
	// after 5 failures: wait 1m0s
	// after 10 failures: wait 2m0s
	// after 200 failures: wait 15m0s
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
	a := auth.New(memstore.NewAuthStore(), auth.Config{
		Credentials: &exampleUsers{m: map[string]auth.User{}},
		Hasher:      fakeHasher{},                                  // password's *Hasher in production
		Policy:      fakePolicy{},                                  // password's Policy
		Sessions:    &fakeSessions{live: map[string]fakeSession{}}, // an adapter over session's *Manager
		Notifier: auth.NotifierFunc(func(_ context.Context, n auth.Notification) error {
			if n.Type == auth.NotifyAccountCreated {
				username = n.Username // the host emails it to the user
			}
			return nil
		}),
	})
	browser := auth.Client{IP: "192.0.2.10", UserAgent: "Firefox", Binding: "hash-of-prelogin-cookie"}

	err := a.Register(ctx, auth.Registration{FirstName: "Łukasz", LastName: "Żółć", Email: "lz@example.com", Password: "a long passphrase"}, browser)
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

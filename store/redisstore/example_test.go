package redisstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// Example wires sessions to Redis under the app's key prefix. It needs a
// running Redis, so go test compiles it without running it; the same calls
// run against a real server in this package's tests.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer func() { _ = rdb.Close() }()
	st := redisstore.New(rdb, "myapp:")

	sessions, err := session.New(st.Session(), session.Config{})
	if err != nil {
		panic(err)
	}
	iss, err := sessions.Create(ctx, "user-1", session.Login{Factors: []string{"password"}})
	if err != nil {
		fmt.Println("Redis unavailable; the login is refused:", err)
		return
	}
	s, err := sessions.Validate(ctx, iss.Token)
	fmt.Println("session for", s.UserID, "valid:", err == nil)
}

// ExampleStore_CheckPersistence refuses to start on a Redis that would
// forget used TOTP codes and lockouts when it restarts, with a clear
// message, rather than deny every sign-in later. It needs a running Redis,
// so go test compiles it without running it.
func ExampleStore_CheckPersistence() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer func() { _ = rdb.Close() }()
	st := redisstore.New(rdb, "myapp:")

	switch err := st.CheckPersistence(ctx); {
	case errors.Is(err, redisstore.ErrVolatileRedis):
		fmt.Println("refusing to start: enable appendonly or RDB snapshots on Redis:", err)
	case err != nil:
		fmt.Println("refusing to start: cannot ask Redis about persistence:", err)
	default:
		fmt.Println("Redis persists its data")
	}
}

package redisstore_test

import (
	"context"
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

package memstore_test

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// Example uses the in-memory session store: the same contract as the SQL
// and Redis stores, including the single-session rule, with nothing to set up.
func Example() {
	ctx := context.Background()
	sessions, err := session.New(memstore.NewSessionStore(), session.Config{})
	if err != nil {
		panic(err)
	}
	if _, err := sessions.Create(ctx, "user-1", session.Login{}); err != nil {
		panic(err)
	}
	_, err = sessions.Create(ctx, "user-1", session.Login{})
	fmt.Println(err)
	// Output: session: concurrent session limit reached
}

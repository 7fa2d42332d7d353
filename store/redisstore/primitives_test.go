package redisstore_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/store/redisstore"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

var (
	_ storetest.CounterStore = mfa.CounterStore(nil) // what Counters returns
	_ storetest.TokenStore   = (*redisstore.Tokens)(nil)
)

func newPrimitives(t *testing.T) *redisstore.Store {
	c, prefix := testenv.Redis(t)
	return volatileOK(redisstore.New(c, prefix))
}

func TestCounters(t *testing.T) {
	t.Parallel()
	storetest.TestCounter(t, func(t *testing.T) storetest.CounterStore { return newPrimitives(t).Counters() })
}

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.TestTokens(t, func(t *testing.T) storetest.TokenStore { return newPrimitives(t).Tokens() })
}

// BenchmarkPrimitives measures one AddCount and one PutToken+TakeToken
// next to a bare PING, the least a round trip costs.
func BenchmarkPrimitives(b *testing.B) {
	ctx, now := context.Background(), time.Now()
	c, prefix := testenv.Redis(b)
	st := redisstore.New(c, prefix)
	st.AllowVolatileRedis = true // measured, not relied on
	b.Run("bare-ping", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := c.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddCount", func(b *testing.B) {
		cs := st.Counters()
		b.ReportAllocs()
		for range b.N {
			if _, _, err := cs.AddCount(ctx, "mfa:attempts:totp:alice", 1, time.Hour, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PutTakeToken", func(b *testing.B) {
		tk, h := st.Tokens(), sha256.Sum256([]byte("secret"))
		b.ReportAllocs()
		for range b.N {
			if err := tk.PutToken(ctx, "k", h, []byte("v"), time.Hour, now); err != nil {
				b.Fatal(err)
			}
			if _, ok, err := tk.TakeToken(ctx, "k", h, now); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

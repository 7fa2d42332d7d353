package memstore_test

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

var (
	_ storetest.CounterStore = memstore.NewCounters()
	_ storetest.TokenStore   = (*memstore.Tokens)(nil)
)

func TestCounters(t *testing.T) {
	t.Parallel()
	storetest.TestCounter(t, func(*testing.T) storetest.CounterStore { return memstore.NewCounters() })
}

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.TestTokens(t, func(*testing.T) storetest.TokenStore { return memstore.NewTokens() })
}

// BenchmarkPrimitives measures one AddCount and one PutToken+TakeToken
// next to a bare mutex-guarded map write, the least a store round trip
// costs in memory.
func BenchmarkPrimitives(b *testing.B) {
	ctx, now := context.Background(), time.Now()
	b.Run("bare-map", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]int64{}
		b.ReportAllocs()
		for range b.N {
			mu.Lock()
			m["mfa:attempts:totp:alice"]++
			mu.Unlock()
		}
	})
	b.Run("AddCount", func(b *testing.B) {
		c := memstore.NewCounters()
		b.ReportAllocs()
		for range b.N {
			if _, _, err := c.AddCount(ctx, "mfa:attempts:totp:alice", 1, time.Hour, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PutTakeToken", func(b *testing.B) {
		s, h := memstore.NewTokens(), sha256.Sum256([]byte("secret"))
		b.ReportAllocs()
		for range b.N {
			if err := s.PutToken(ctx, "k", h, []byte("v"), time.Hour, now); err != nil {
				b.Fatal(err)
			}
			if _, ok, err := s.TakeToken(ctx, "k", h, now); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

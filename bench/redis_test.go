package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/session"
	bredis "github.com/bulwarkhq/bulwark/store/redisstore"
)

// Session validation on Redis, against its floor and its peer, in one run:
//
//   - Bulwark: session.Manager.Validate on redisstore (one GET of the
//     compact record, decode, expiry checks; no touch due);
//   - BareGET: a go-redis GET of a value of the same size as Bulwark's
//     record, on the same client: the floor of any Redis-backed validation;
//   - SCS: scs's Load (Find through redigo, then gob decoding) with its
//     redisstore, the peer.
//
// Ratio interleaves Bulwark and BareGET in one loop and reports the median
// of the per-request ratios (target ≤ 1.2). Needs BULWARK_TEST_REDIS.
func BenchmarkRedisValidate(b *testing.B) {
	addr := os.Getenv("BULWARK_TEST_REDIS")
	if addr == "" {
		b.Skip("BULWARK_TEST_REDIS is not set")
	}
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	b.Cleanup(func() { _ = rdb.Close() })
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	prefix := "bulwark-bench:" + hex.EncodeToString(rnd[:]) + ":"
	b.Cleanup(func() { deleteRedisPrefix(b, rdb, prefix) })

	now := time.Now()
	m, err := session.New(bredis.New(rdb, prefix).Session(), session.Config{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := m.Create(ctx, "user-42", session.Login{Factors: []string{"password"}, IP: "192.0.2.1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"})
	if err != nil {
		b.Fatal(err)
	}
	// The floor fetches a value as long as Bulwark's record.
	size := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if t, _ := rdb.Type(ctx, iter.Val()).Result(); t == "string" {
			size = int(rdb.StrLen(ctx, iter.Val()).Val())
		}
	}
	if size == 0 {
		b.Fatal("no session record found")
	}
	bareKey := prefix + "bare"
	if err := rdb.Set(ctx, bareKey, strings.Repeat("x", size), time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	validate := func() {
		if _, err := m.Validate(ctx, iss.Token); err != nil {
			b.Fatal(err)
		}
	}
	bare := func() {
		if v, err := rdb.Get(ctx, bareKey).Result(); err != nil || len(v) != size {
			b.Fatal(err)
		}
	}

	b.Run("Bulwark", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			validate()
		}
	})
	b.Run("BareGET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bare()
		}
	})
	b.Run("Ratio", func(b *testing.B) {
		var ratios []float64
		for b.Loop() {
			t0 := time.Now()
			validate()
			t1 := time.Now()
			bare()
			ratios = append(ratios, float64(t1.Sub(t0))/float64(time.Since(t1)))
		}
		b.ReportMetric(median(ratios), "ratio")
		b.ReportMetric(float64(size), "record-bytes")
	})
	b.Run("SCS", func(b *testing.B) {
		pool := &redis.Pool{MaxIdle: 4, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr) }}
		b.Cleanup(func() { _ = pool.Close() })
		sm := scs.New()
		sm.Store = redisstore.NewWithPrefix(pool, prefix+"scs:")
		sctx, err := sm.Load(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		sm.Put(sctx, "userID", "user-42")
		token, _, err := sm.Commit(sctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			c, err := sm.Load(ctx, token)
			if err != nil || sm.GetString(c, "userID") != "user-42" {
				b.Fatal("scs: no session", err)
			}
		}
	})
}

func deleteRedisPrefix(tb testing.TB, rdb *goredis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			tb.Error(err)
		}
	}
}

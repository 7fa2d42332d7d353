package audit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// benchEvent is a typical access-log event, as bench/audit_test.go uses.
func benchEvent() audit.Entry {
	return audit.Entry{
		Tenant: "acme", Actor: "user-1234", ActorType: "user", Action: "auth.login.failed",
		TargetType: "user", TargetID: "user-1234", Outcome: audit.Failure, IP: "203.0.113.77",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		RequestID: "req-01J2ZK3M4N5P6Q7R8S9T",
	}
}

// storeEvent is benchEvent as Log.Append hands it to the store: id and
// time set.
func storeEvent() audit.Entry {
	ev := benchEvent()
	ev.ID, ev.Time = "0190a6d8-0000-7abc-8def-0123456789ab", time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	return ev
}

// freshEvery restarts the in-memory store every so many events, so that
// millions of iterations measure the append rather than the kernel
// faulting in gigabytes of new pages.
const freshEvery = 100_000

// BenchmarkAppend compares, in one run, the in-memory store's own Append
// (the floor: lock, encode, hash, keep) with Log.Append over the same store
// (validation, id, clock, redaction, group commit on top), one goroutine
// and many. Compare the ns/op of the sub-benchmarks; BenchmarkAppendRatio
// reports the ratio directly.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	b.Run("store", func(b *testing.B) {
		s := memstore.NewAuditStore()
		evs := []audit.Entry{storeEvent()}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if n++; n%freshEvery == 0 {
				s = memstore.NewAuditStore()
			}
			if _, err := s.Append(ctx, evs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("log", func(b *testing.B) {
		l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
		ev := benchEvent()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if n++; n%freshEvery == 0 {
				l = mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
			}
			if _, err := l.Append(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("log-parallel", func(b *testing.B) {
		l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
		ev := benchEvent()
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Append(ctx, ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkAppendRatio interleaves short rounds of the store's Append and
// of Log.Append on one goroutine, alternating which goes first, and
// reports the median over rounds of store-time/log-time ("log/store-speed":
// 0.7 means Log.Append runs at 70% of the store's own speed) plus each
// side's mean ns per event. The median of paired rounds is what stays
// stable on a shared, loaded machine, where a burst of load hits one
// round, not one side. In "log-fills-id-time" Log.Append draws the id and
// reads the clock (work the store's events come without); in
// "log-given-id-time" the event carries both, as the store's does.
func BenchmarkAppendRatio(b *testing.B) {
	b.Run("log-fills-id-time", func(b *testing.B) { appendRatio(b, benchEvent()) })
	b.Run("log-given-id-time", func(b *testing.B) { appendRatio(b, storeEvent()) })
}

func appendRatio(b *testing.B, ev audit.Entry) {
	ctx := context.Background()
	const round = 200
	var tStore, tLog time.Duration
	var ratios []float64
	s := memstore.NewAuditStore()
	l := mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
	evs := []audit.Entry{storeEvent()}
	runStore := func() time.Duration {
		start := time.Now()
		for range round {
			if _, err := s.Append(ctx, evs); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	runLog := func() time.Duration {
		start := time.Now()
		for range round {
			if _, err := l.Append(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	done := 0
	for b.Loop() {
		if done%freshEvery == 0 {
			s, l = memstore.NewAuditStore(), mustLog(audit.New(memstore.NewAuditStore(), audit.Config{}))
		}
		var ds, dl time.Duration
		if done/round%2 == 0 {
			ds, dl = runStore(), runLog()
		} else {
			dl, ds = runLog(), runStore()
		}
		tStore, tLog = tStore+ds, tLog+dl
		ratios = append(ratios, float64(ds)/float64(dl))
		done += round
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(tStore.Nanoseconds())/float64(done), "store-ns/ev")
	b.ReportMetric(float64(tLog.Nanoseconds())/float64(done), "log-ns/ev")
	b.ReportMetric(ratios[len(ratios)/2], "log/store-speed")
}

package refresher_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/refresher"
)

// BenchmarkRenewalBookkeeping measures what one background renewal costs
// the refresher with n sessions cached: one entry comes due, RefreshDue
// takes it off the schedule, fetches it (an in-process fetcher, so the
// figure is bookkeeping, not STS), records the result and schedules the
// next renewal. The schedule is a heap: the 100,000 figure should stay
// within 2x of the 1,000 one (an O(n) scan was 100x).
func BenchmarkRenewalBookkeeping(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run("sessions="+strconv.Itoa(n), func(b *testing.B) {
			ref, c, clk, entries := filled(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := entries[i%n]
				i++
				e.Touch(clk.Mono()) // in use, so renewed
				c.Schedule(e, clk.Mono())
				ref.RefreshDue(ctx)
			}
		})
	}
}

// BenchmarkLookupDuringRenewals measures a cached lookup while another
// goroutine renews sessions back to back: lookups take no lock that
// renewal holds.
func BenchmarkLookupDuringRenewals(b *testing.B) {
	ref, c, clk, entries := filled(b, 10_000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			e := entries[i%len(entries)]
			c.Schedule(e, clk.Mono())
			ref.RefreshDue(ctx)
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := ref.GetEntry(ctx, entries[i%len(entries)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	cancel()
	<-done
}

// filled returns a Refresher whose cache holds n fresh on-demand sessions
// from an in-process fetcher, with the cache, the clock and the entries.
func filled(b *testing.B, n int) (*refresher.Refresher, *cache.Cache, *clock.Fake, []*cache.Entry) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		t := clk.Now()
		return ossd.Credentials{AccessKeyID: "STS.x", AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"), Expiration: t.Add(p.Duration), LastUpdated: t}, nil
	})
	c := cache.New(n)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, MaxQPS: 1e9, Seed: 1})
	entries := make([]*cache.Entry, n)
	for i := range entries {
		p := ossd.Params{RoleARN: "acs:ram::1234567890123456:role/r" + strconv.Itoa(i%1000), SessionName: "ossd-s" + strconv.Itoa(i), Duration: time.Hour}
		if _, err := ref.Get(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		entries[i], _ = c.Get(p.Key())
	}
	return ref, c, clk, entries
}

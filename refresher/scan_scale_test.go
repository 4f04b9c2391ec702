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

// BenchmarkRefreshDue measures one pass of RefreshDue when nothing is due,
// over n cached entries: what the Run loop pays each time it wakes, which
// is at every scheduled renewal and after every fetch (record notifies
// Run), on-demand session fetches included.
func BenchmarkRefreshDue(b *testing.B) {
	for _, tc := range []struct {
		pinned bool
		n      int
	}{{true, 1_000}, {false, 10_000}, {false, 100_000}} {
		name := "roles=" + strconv.Itoa(tc.n)
		if !tc.pinned {
			name = "sessions=" + strconv.Itoa(tc.n)
		}
		b.Run(name, func(b *testing.B) {
			ref := filled(b, tc.n, tc.pinned)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				ref.RefreshDue(ctx)
			}
		})
	}
}

// filled returns a Refresher whose cache holds n fresh entries, configured
// roles or on-demand sessions, from an in-process fetcher.
func filled(b *testing.B, n int, pinned bool) *refresher.Refresher {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		t := clk.Now()
		return ossd.Credentials{AccessKeyID: "STS.x", AccessKeySecret: "s", SecurityToken: "t", Expiration: t.Add(p.Duration), LastUpdated: t}, nil
	})
	c := cache.New(n)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, MaxQPS: 1e9, Seed: 1})
	ps := make([]ossd.Params, n)
	for i := range ps {
		ps[i] = ossd.Params{RoleARN: "acs:ram::1234567890123456:role/r" + strconv.Itoa(i%1000), SessionName: "ossd-s" + strconv.Itoa(i), Duration: time.Hour}
	}
	if pinned {
		if errs := ref.Warm(context.Background(), ps); len(errs) > 0 {
			b.Fatalf("Warm: %d errors", len(errs))
		}
		return ref
	}
	for _, p := range ps {
		if _, err := ref.Get(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	return ref
}

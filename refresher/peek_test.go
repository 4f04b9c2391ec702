package refresher_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// TestPeekNeverFetches: Peek answers from the cache as GetEntry would
// (hit above the floor, degraded above the hard minimum, nothing below)
// and never calls STS itself: a miss or a degraded answer only makes a
// renewal due, which RefreshDue then makes.
func TestPeekNeverFetches(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	var calls, failing atomic.Int64
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		calls.Add(1)
		if failing.Load() != 0 {
			return ossd.Credentials{}, &ossd.STSError{Code: "ServiceUnavailable"}
		}
		now := clk.Now()
		return ossd.Credentials{AccessKeyID: "STS.a", AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"), Expiration: now.Add(p.Duration), LastUpdated: now}, nil
	})
	c := cache.New(10)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, Seed: 1})
	ctx := context.Background()
	e := ref.Start([]ossd.Params{roleParams("reader")})[0]
	c.Unschedule(e) // as if its first fetch were far off: only Peek can make it due
	if _, _, ok := ref.Peek(e); ok {
		t.Fatal("Peek served a role never fetched")
	}
	if calls.Load() != 0 {
		t.Fatal("Peek called STS")
	}
	if due, ok := c.Due(e); !ok || due > clk.Mono() {
		t.Fatalf("after a miss the role is due at %v (scheduled %v), want now (%v)", due, ok, clk.Mono())
	}
	ref.RefreshDue(ctx)
	if _, result, ok := ref.Peek(e); !ok || result != "hit" || calls.Load() != 1 {
		t.Fatalf("after RefreshDue: Peek = %q, %v with %d calls; want a hit after one call", result, ok, calls.Load())
	}
	failing.Store(1)
	clk.Advance(time.Hour - refresher.DefaultFloor + time.Second) // below the floor, renewals failing
	c.Unschedule(e)
	if _, result, ok := ref.Peek(e); !ok || result != "degraded" {
		t.Fatalf("below the floor: Peek = %q, %v; want degraded", result, ok)
	}
	if _, ok := c.Due(e); !ok {
		t.Error("a degraded answer left no renewal due")
	}
	before := calls.Load()
	clk.Advance(refresher.DefaultFloor - refresher.DefaultHardMin) // at the hard minimum
	if _, _, ok := ref.Peek(e); ok {
		t.Error("Peek served a token with no more than the hard minimum left")
	}
	if calls.Load() != before {
		t.Error("Peek called STS")
	}
}

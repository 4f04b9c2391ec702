package refresher_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

func session(i int) ossd.Params {
	p := roleParams("reader")
	p.SessionName += "-s" + strconv.Itoa(i)
	return p
}

// TestSessionsUsedOnce: 1,000 on-demand sessions, each asked for once,
// cost exactly 1,000 AssumeRole calls over a simulated day; nobody renews
// them, and once their tokens are spent they leave the cache.
func TestSessionsUsedOnce(t *testing.T) {
	e := testenv.New(t, testenv.Options{MaxSessions: 2000, MaxQPS: 1e6}, "reader")
	ctx := context.Background()
	for i := range 1000 {
		if _, err := e.Ref.Get(ctx, session(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 24 * 60 {
		e.Clock.Advance(time.Minute)
		e.Ref.RefreshDue(ctx)
	}
	if n := e.STS.Calls(); n != 1000 {
		t.Errorf("%d AssumeRole calls in a day, want exactly 1000", n)
	}
	if _, n := e.Cache.Len(); n != 0 {
		t.Errorf("%d spent sessions still cached, want 0", n)
	}
	if n := e.Cache.Scheduled(); n != 0 {
		t.Errorf("%d entries still scheduled, want 0", n)
	}
}

// TestSessionsInUse: 1,000 on-demand sessions asked for every minute of a
// day are renewed in the background: callers never wait on STS after the
// first fetch and are never handed a token with the floor or less left.
func TestSessionsInUse(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	var calls atomic.Int64
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		n, now := calls.Add(1), clk.Now()
		return ossd.Credentials{AccessKeyID: "STS." + strconv.FormatInt(n, 10), AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"),
			Expiration: now.Add(p.Duration), LastUpdated: now}, nil
	})
	c := cache.New(2000)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, MaxQPS: 1e6, Seed: 1})
	ctx := context.Background()
	get := func(i int) ossd.Credentials {
		got, err := ref.Get(ctx, session(i))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i := range 1000 {
		get(i)
	}
	for minute := range 24 * 60 {
		clk.Advance(time.Minute)
		ref.RefreshDue(ctx)
		before := calls.Load()
		for i := range 1000 {
			if left := get(i).Expiration.Sub(clk.Now()); left <= refresher.DefaultFloor {
				t.Fatalf("minute %d: session %d served with %v left", minute, i, left)
			}
		}
		if n := calls.Load() - before; n != 0 {
			t.Fatalf("minute %d: callers made %d AssumeRole calls, want renewal ahead of them", minute, n)
		}
	}
	// 34-39 minutes between renewals: about 38 per session in a day.
	if n := calls.Load(); n < 1000*36 || n > 1000*44 {
		t.Errorf("%d AssumeRole calls, want about 38,000", n)
	}
}

package refresher_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// TestServiceResumesWithinSeconds: STS fails (5xx, or throttles) for longer
// than a token lives, so callers lose the role; within 2 s of STS answering
// again a caller is served, whatever backoff or throttling pause background
// renewal has built up meanwhile.
func TestServiceResumesWithinSeconds(t *testing.T) {
	for _, f := range []localsts.Fault{{Code: "ServiceUnavailable"}, {Code: "Throttling.User"}} {
		t.Run(f.Code, func(t *testing.T) {
			e := newEnv(t, testKeySecret, "reader")
			ctx := context.Background()
			p := roleParams("reader")
			warm := e.Get(p)
			e.STS.SetFault(f)
			var lastErr error
			for e.Clock.Now().Before(warm.Expiration.Add(20 * time.Minute)) {
				e.Clock.Advance(30 * time.Second)
				e.Ref.RefreshDue(ctx)
				_, lastErr = e.Ref.Get(ctx, p)
			}
			if ossd.ErrorCode(lastErr) != f.Code {
				t.Fatalf("during the outage: %v, want an error naming %s", lastErr, f.Code)
			}
			e.STS.ClearFault()
			e.Clock.Advance(2 * time.Second)
			c, err := e.Ref.Get(ctx, p)
			if err != nil || !c.Valid(e.Clock.Now(), refresher.DefaultFloor) {
				t.Fatalf("2 s after STS recovered: %v, want fresh credentials", err)
			}
		})
	}
}

// TestFailureAnswersAreShared: callers arriving just after a failed attempt
// get its answer; they do not each send STS a call.
func TestFailureAnswersAreShared(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	e.STS.SetFault(localsts.Fault{Code: "ServiceUnavailable"})
	p := roleParams("reader")
	for range 50 {
		if _, err := e.Ref.Get(context.Background(), p); err == nil {
			t.Fatal("served while STS fails")
		}
	}
	if n := e.STS.Calls(); n != 1 {
		t.Errorf("50 callers within a second of a failure made %d STS calls, want 1", n)
	}
}

// TestServerClockAhead: STS's clock runs 3 h ahead of ours, so its
// Expiration says a one-hour token has four hours left. ossd never believes
// more life than it asked for: the token it serves says one hour, is
// renewed before the floor by our monotonic clock, and the offset is
// reported.
func TestServerClockAhead(t *testing.T) {
	e := testenv.New(t, testenv.Options{STSClockAhead: 3 * time.Hour}, "reader")
	p := roleParams("reader")
	c := e.Get(p)
	if left := c.Expiration.Sub(e.Clock.Now()); left > p.Duration {
		t.Errorf("served with %v left, want no more than the %v asked for", left, p.Duration)
	}
	if off := e.Ref.ClockOffset(); off < 3*time.Hour-2*time.Second || off > 3*time.Hour+2*time.Second {
		t.Errorf("ClockOffset = %v, want about 3h", off)
	}
	if !strings.Contains(e.Logs.String(), `"clock_offset":"3h0m0s"`) {
		t.Errorf("no log line reports the offset:\n%s", e.Logs)
	}
	// Past the point where an hour token must have been renewed, by our
	// clock alone: no caller is handed the first token.
	for range 50 {
		e.Clock.Advance(time.Minute)
		e.Ref.RefreshDue(context.Background())
		got := e.Get(p)
		if got.AccessKeyID == c.AccessKeyID && e.Clock.Mono() > time.Hour+p.Duration-refresher.DefaultFloor {
			t.Fatalf("the first token was still served %v after it was fetched", 50*time.Minute)
		}
	}
}

// countingClock counts every reading of the time.
type countingClock struct {
	*clock.Fake
	reads atomic.Int64
}

func (c *countingClock) Now() time.Time      { c.reads.Add(1); return c.Fake.Now() }
func (c *countingClock) Mono() time.Duration { c.reads.Add(1); return c.Fake.Mono() }

// TestThrottlePauseSleeps: while STS's throttling pauses renewal, Run
// sleeps until the pause ends. A loop that woke at once (a due time in the
// past) would spin through the pause without ever arming its timer, and
// read the clock thousands of times.
func TestThrottlePauseSleeps(t *testing.T) {
	clk := &countingClock{Fake: clock.NewFake(testenv.Epoch)}
	var calls atomic.Int64
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		if calls.Add(1) > 3 {
			return ossd.Credentials{}, &ossd.STSError{Code: "Throttling.User"}
		}
		now := clk.Fake.Now()
		return ossd.Credentials{AccessKeyID: "STS.a", AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"), Expiration: now.Add(p.Duration), LastUpdated: now}, nil
	})
	c := cache.New(10)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, Seed: 1})
	ps := []ossd.Params{roleParams("a"), roleParams("b"), roleParams("c")}
	if errs := ref.Warm(context.Background(), ps); len(errs) != 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ref.Run(ctx) }()
	defer func() { cancel(); <-done }()
	asleep := func() { waitFor(t, "Run to arm its timer", func() bool { return clk.Fake.Timers() > 0 }) }
	asleep()
	clk.Advance(40 * time.Minute) // every role due; the first renewal is throttled
	waitFor(t, "a throttled renewal", func() bool { return calls.Load() > 3 })
	asleep()
	for step := range 40 { // 10 minutes, through the longest pause
		before := clk.reads.Load()
		clk.Advance(15 * time.Second)
		asleep()
		if n := clk.reads.Load() - before; n > 200 {
			t.Fatalf("step %d: %d clock readings in 15 s of a throttling pause, want Run asleep", step, n)
		}
	}
}

package refresher

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
)

// TestADayOfRenewals runs 1,000 configured one-hour roles through a
// simulated day on a fake clock, as Run would: Start at the beginning, then
// RefreshDue whenever it says something is next due, the clock moved
// straight there, through the real fetch path (rate limiter, record,
// refreshIn) against a counting in-process fetcher. It checks that
// AssumeRole calls never exceed max_qps in any one-second window, that
// renewals spread out instead of arriving together, and that RefreshDue
// never asks to be called again without having anything to do.
func TestADayOfRenewals(t *testing.T) {
	for _, qps := range []float64{DefaultMaxQPS, 100} {
		t.Run(fmt.Sprintf("max_qps=%v", qps), func(t *testing.T) {
			sim := newDaySim(t, qps)
			ps := make([]ossd.Params, 1000)
			for i := range ps {
				ps[i] = ossd.Params{RoleARN: fmt.Sprintf("acs:ram::1234567890123456:role/r%04d", i), SessionName: "ossd-r", Duration: time.Hour}
			}
			sim.ref.Start(ps)
			warmEnd := sim.runUntil(sim.start+24*time.Hour, len(ps))
			sim.check(warmEnd)
		})
	}
}

type daySim struct {
	t     *testing.T
	clk   *clock.Fake
	ref   *Refresher
	cache *cache.Cache
	qps   float64
	start time.Duration // monotonic

	mu    sync.Mutex      // guards calls
	calls []time.Duration // monotonic time of every AssumeRole call
}

func newDaySim(t *testing.T, qps float64) *daySim {
	s := &daySim{t: t, clk: clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), cache: cache.New(10), qps: qps}
	s.start = s.clk.Mono()
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		now, mono := s.clk.Now(), s.clk.Mono()
		s.mu.Lock()
		s.calls = append(s.calls, mono)
		n := len(s.calls)
		s.mu.Unlock()
		return ossd.Credentials{AccessKeyID: "STS." + strconv.Itoa(n), AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"),
			Expiration: now.Add(p.Duration), LastUpdated: now}, nil
	})
	s.ref = New(Options{Fetcher: fetch, Cache: s.cache, Clock: s.clk, MaxQPS: qps, Seed: 42})
	return s
}

func (s *daySim) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// runUntil calls RefreshDue and moves the clock to the time it names, until
// end. It returns the time of the call that completed the first fetch of
// all n roles.
func (s *daySim) runUntil(end time.Duration, n int) (warmEnd time.Duration) {
	idle := 0
	for s.clk.Mono() < end {
		before := s.callCount()
		next := s.ref.RefreshDue(context.Background())
		if warmEnd == 0 && s.callCount() >= n {
			s.mu.Lock()
			warmEnd = s.calls[n-1]
			s.mu.Unlock()
		}
		if d := min(next, end) - s.clk.Mono(); d > 0 {
			s.clk.Advance(d)
			idle = 0
			continue
		}
		if s.callCount() == before {
			if idle++; idle > 2 {
				s.t.Fatalf("RefreshDue at +%v returned %v (due now) %d times without a call", s.clk.Mono()-s.start, next-s.start, idle)
			}
		}
	}
	return warmEnd
}

// check asserts the bounds on the recorded calls.
func (s *daySim) check(warmEnd time.Duration) {
	calls := slices.Clone(s.calls)
	slices.Sort(calls)
	perSecond := make(map[time.Duration]int)
	for _, c := range calls {
		perSecond[(c-s.start)/time.Second]++
	}
	window := maxInWindow(calls, time.Second)
	steady := maxInWindow(slices.DeleteFunc(slices.Clone(calls), func(c time.Duration) bool { return c <= warmEnd }), time.Second)
	s.t.Logf("%d AssumeRole calls in a day; the last warm-up call at +%v; max in any 1 s window: %d overall, %d after warm-up; seconds by calls: %s",
		len(calls), warmEnd-s.start, window, steady, histogram(perSecond))
	// Each role renews 34-39 minutes after a fetch (the renewal point, an
	// hour less the floor and the outage margin, and the spread before it):
	// 36 to 43 times in what is left of the day after its first fetch.
	if lo, hi := 1000*(1+36), 1000*(1+43); len(calls) < lo || len(calls) > hi {
		s.t.Errorf("%d calls in a day, want %d..%d", len(calls), lo, hi)
	}
	if window > int(s.qps) {
		s.t.Errorf("%d AssumeRole calls within one second, max_qps is %v", window, s.qps)
	}
	// Renewals must spread out: at most 15 in any second once the start is
	// over (the mean is about 3 in the first round, under 1 after). Without
	// the spread they would repeat the warm-up's stream, max_qps a second.
	if limit := 15; steady > limit {
		s.t.Errorf("%d renewals within one second after warm-up, want at most %d", steady, limit)
	}
}

// maxInWindow returns the most of sorted that fall in any half-open window
// [t, t+w).
func maxInWindow(sorted []time.Duration, w time.Duration) int {
	best, lo := 0, 0
	for hi, t := range sorted {
		for sorted[lo] <= t-w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// histogram renders how many seconds saw each number of calls, seconds with
// none left out.
func histogram(perSecond map[time.Duration]int) string {
	counts := make(map[int]int)
	for _, n := range perSecond {
		counts[n]++
	}
	var parts []string
	for _, n := range slices.Sorted(func(yield func(int) bool) {
		for k := range counts {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%d calls: %ds", n, counts[n]))
	}
	return strings.Join(parts, ", ")
}

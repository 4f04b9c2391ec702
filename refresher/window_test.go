package refresher

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestWindowNeverExceedsRate(t *testing.T) {
	for _, qps := range []float64{0.5, 1, 20, 100} {
		w := newWindow(qps)
		start := time.Hour
		var calls []time.Duration
		for range 500 { // everyone at once, as at start-up
			_, d := w.reserve(start)
			calls = append(calls, start+d)
		}
		checkWindow(t, qps, calls)
		if last := calls[len(calls)-1] - start; last > time.Duration(float64(500)/qps*float64(time.Second+slack)) {
			t.Errorf("qps %v: 500 calls took %v, want the full rate", qps, last)
		}
	}
}

// TestWindowStaggeredCallers books from callers arriving over time, as
// workers do that reserve a slot whenever a previous call returns: bookings
// made while earlier ones are still in the future must not undercut them.
func TestWindowStaggeredCallers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, qps := range []float64{20, 100} {
		w := newWindow(qps)
		now := time.Hour
		var calls []time.Duration
		for range 3000 {
			now += time.Duration(rng.Int64N(int64(30 * time.Millisecond)))
			_, d := w.reserve(now)
			calls = append(calls, now+d)
		}
		slices.Sort(calls)
		checkWindow(t, qps, calls)
	}
}

// checkWindow fails if any span of one second (or 1/qps below one call a
// second) holds more calls than the rate allows; calls must be sorted.
func checkWindow(t *testing.T, qps float64, calls []time.Duration) {
	t.Helper()
	{
		limit := int(qps)
		span := time.Second + slack
		if limit < 1 {
			limit, span = 1, time.Duration(float64(time.Second)/qps)+slack
		}
		for i := range calls {
			j := i
			for j < len(calls) && calls[j] < calls[i]+span {
				j++
			}
			if j-i > limit {
				t.Fatalf("qps %v: %d calls within %v from %v, want at most %d", qps, j-i, span, calls[i], limit)
			}
		}
	}
}

// TestWindowCountsWhenCallsWentOut: a call that went out late moves the
// slot a window later, so the calls after it cannot crowd into its second.
func TestWindowCountsWhenCallsWentOut(t *testing.T) {
	w := newWindow(2)
	s0, _ := w.reserve(time.Hour)
	w.reserve(time.Hour)
	w.sent(s0, time.Hour+300*time.Millisecond) // scheduled late
	_, d := w.reserve(time.Hour + 100*time.Millisecond)
	if want := 300*time.Millisecond + time.Second + slack - 100*time.Millisecond; d != want {
		t.Errorf("wait = %v, want %v", d, want)
	}
}

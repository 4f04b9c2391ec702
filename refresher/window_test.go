package refresher

import (
	"testing"
	"time"
)

func TestWindowNeverExceedsRate(t *testing.T) {
	for _, qps := range []float64{0.5, 1, 20, 100} {
		w := newWindow(qps)
		start := time.Hour
		var calls []time.Duration
		for range 500 { // everyone at once, as at start-up
			calls = append(calls, start+w.reserve(start))
		}
		limit := int(qps)
		span := time.Second
		if limit < 1 {
			limit, span = 1, time.Duration(float64(time.Second)/qps)
		}
		for i := range calls {
			j := i
			for j < len(calls) && calls[j] < calls[i]+span {
				j++
			}
			if j-i > limit {
				t.Fatalf("qps %v: %d calls within %v of %v, want at most %d", qps, j-i, span, calls[i]-start, limit)
			}
		}
		if last := calls[len(calls)-1] - start; last > time.Duration(float64(500)/qps*float64(time.Second)) {
			t.Errorf("qps %v: 500 calls took %v, want the full rate", qps, last)
		}
	}
}

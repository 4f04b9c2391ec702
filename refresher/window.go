package refresher

import (
	"sync"
	"time"
)

// window limits AssumeRole calls to at most n in any span of per. A token
// bucket sized to the rate lets nearly twice the rate through in the first
// second (a full bucket plus a second's refill), which is just when a
// daemon with many roles starts; STS's limit is per second, so ossd's is
// too.
type window struct {
	per time.Duration
	mu  sync.Mutex      // guards at and next
	at  []time.Duration // monotonic times of the last n calls, a ring
	nxt int             // the oldest slot in at
}

// newWindow allows qps calls a second: n = ⌊qps⌋ calls per second, or one
// call per 1/qps seconds below one a second.
func newWindow(qps float64) *window {
	n := int(qps)
	per := time.Second
	if n < 1 {
		n, per = 1, time.Duration(float64(time.Second)/qps)
	}
	return &window{per: per, at: make([]time.Duration, n)}
}

// reserve books the earliest slot at or after monotonic time now and
// returns how long the caller must wait for it. A booked slot is never
// given back: giving up on it only makes the limit stricter.
func (w *window) reserve(now time.Duration) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := now
	if oldest := w.at[w.nxt]; oldest != 0 && oldest+w.per > now {
		at = oldest + w.per
	}
	w.at[w.nxt] = at
	w.nxt = (w.nxt + 1) % len(w.at)
	return at - now
}

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
//
// A call books a slot, waits for it, and then records when it really went
// out: a caller that was scheduled late would otherwise let the calls
// booked a second after it crowd into its second.
type window struct {
	per  time.Duration
	mu   sync.Mutex      // guards at, nxt and last
	at   []time.Duration // monotonic times of the last n calls, a ring
	nxt  int             // the oldest slot in at
	last time.Duration   // the latest time in at
}

// slack widens the window a little beyond a second, for the time between a
// call leaving the limiter and reaching STS, which varies from call to call.
const slack = 50 * time.Millisecond

// newWindow allows qps calls a second: n = ⌊qps⌋ calls per second, or one
// call per 1/qps seconds below one a second.
func newWindow(qps float64) *window {
	n := int(qps)
	per := time.Second
	if n < 1 {
		n, per = 1, time.Duration(float64(time.Second)/qps)
	}
	return &window{per: per + slack, at: make([]time.Duration, n)}
}

// reserve books the earliest slot at or after monotonic time now and
// returns it and how long the caller must wait for it. A booked slot is
// never given back: giving up on it only makes the limit stricter.
func (w *window) reserve(now time.Duration) (slot int, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Booked times never go backwards, so the ring holds the last n calls
	// in time order and its oldest is n calls back.
	at := max(now, w.last)
	if oldest := w.at[w.nxt]; oldest != 0 && oldest+w.per > at {
		at = oldest + w.per
	}
	slot = w.nxt
	w.at[slot], w.last = at, at
	w.nxt = (w.nxt + 1) % len(w.at)
	return slot, at - now
}

// sent records that the call holding slot went out at monotonic time now,
// if that is later than booked.
func (w *window) sent(slot int, now time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now > w.at[slot] {
		w.at[slot] = now
		w.last = max(w.last, now)
	}
}

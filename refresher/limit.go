package refresher

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// limiter keeps the promise that no span of one second sees more than
// max_qps AssumeRole calls at STS, and adapts the daemon's rate to what STS
// lets through.
//
// A call holds a slot from the moment it may go out until one second after
// its answer came back. The call reaches STS somewhere in between, so any
// n+1 calls that arrive within one second would need n+1 slots held at
// once: the last of them to take its slot would have found the others
// holding theirs. The promise therefore holds at STS, whatever the
// latency, not only at the moment calls leave. A caller that gives up while
// waiting books nothing, so it takes nothing from anyone.
//
// The rate is max_qps until STS answers Throttling. Each throttling answer
// cuts it by beta; it then grows back along a cubic curve that regains the
// rate it had at the cut after recoverIn and keeps growing past it, slowly
// at first (the additive-increase, multiplicative-decrease of the AWS SDKs'
// adaptive retry mode). Many daemons sharing one account's limit each
// converge on a share of it without talking to one another. Callers that
// wait on a token they do not have are never held below demandRate, so
// that service resumes within seconds once STS answers again.
//
// Memory is the completion times of the calls of the last window: bounded
// by the rate in use, never allocated in advance for the rate allowed.
type limiter struct {
	clk clock.Clock
	max float64 // max_qps

	mu       sync.Mutex      // guards the fields below
	inflight int             // calls holding a slot that have not answered
	done     []time.Duration // monotonic answer times still holding a slot, ascending
	demand   int             // callers waiting for a slot on behalf of a caller
	changed  chan struct{}   // closed, and replaced, whenever a slot may have come free
	cut      bool            // STS has throttled us at least once
	cutAt    time.Duration   // monotonic time of the last throttling answer
	cutFrom  float64         // the rate just before that cut
}

const (
	beta       = 0.7         // what a throttling answer leaves of the rate
	recoverIn  = time.Minute // time to regain the rate in force before a cut
	minRate    = 1.0 / 3600  // a throttled daemon still tries once an hour
	demandRate = 0.5         // callers without a token are never held below this
	ratePeriod = time.Second // STS's limit is per second
	noSlot     = time.Duration(math.MaxInt64)
)

func newLimiter(clk clock.Clock, maxQPS float64) *limiter {
	return &limiter{clk: clk, max: maxQPS, changed: make(chan struct{})}
}

// rate returns the calls per second allowed at monotonic time now.
func (l *limiter) rate(now time.Duration) float64 {
	if !l.cut {
		return l.max
	}
	x := float64(now-l.cutAt)/float64(recoverIn) - 1 // -1 at the cut, 0 at recoverIn
	r := l.cutFrom * (1 + (1-beta)*x*x*x)
	return min(l.max, max(minRate, r))
}

// window returns how many calls may hold slots at once at rate, and for
// how long after its answer a call keeps its slot.
func window(rate float64) (n int, per time.Duration) {
	if rate >= 1 {
		return int(rate), ratePeriod
	}
	return 1, time.Duration(float64(ratePeriod) / rate)
}

// capacity returns n and per for a caller: demand callers never below
// demandRate. It drops the answers that no longer hold any slot: those
// older than the background period, the longest in force (a period never
// shorter than a second keeps the max_qps promise).
func (l *limiter) capacity(now time.Duration, demand bool) (n int, per time.Duration) {
	r := l.rate(now)
	n, per = window(r)
	i := 0
	for i < len(l.done) && l.done[i]+per <= now {
		i++
	}
	if i > 0 {
		l.done = append(l.done[:0], l.done[i:]...)
	}
	if demand {
		n, per = window(max(r, min(l.max, demandRate)))
	}
	return n, per
}

// held counts the slots held at now when answers keep theirs for per.
func (l *limiter) held(now, per time.Duration) int {
	return l.inflight + len(l.done) - l.firstHolding(now, per)
}

// firstHolding returns the index of the oldest answer still holding a slot
// at now; done is ascending.
func (l *limiter) firstHolding(now, per time.Duration) int {
	return sort.Search(len(l.done), func(i int) bool { return l.done[i]+per > now })
}

// tryAcquire takes a slot for a background call if one is free at now and
// no caller is waiting for one.
func (l *limiter) tryAcquire(now time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, per := l.capacity(now, false)
	if l.demand == 0 && l.held(now, per) < n {
		l.inflight++
		return true
	}
	return false
}

// nextFree reports when a background call could take a slot: now, later, or
// noSlot while callers wait for slots or only answers still out can free
// one.
func (l *limiter) nextFree(now time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.demand > 0 {
		return noSlot
	}
	n, per := l.capacity(now, false)
	if l.held(now, per) < n {
		return now
	}
	return l.free(now, n, per)
}

// free reports when a slot may come free, given n and per: when enough of
// the answers holding slots, oldest first, have served their time to bring
// the slots held below n.
func (l *limiter) free(now time.Duration, n int, per time.Duration) time.Duration {
	first := l.firstHolding(now, per)
	k := l.inflight + len(l.done) - first - n // answers that must expire
	if first+k >= len(l.done) {
		return noSlot
	}
	return l.done[first+k] + per
}

// acquire waits for a slot for a call made on behalf of a caller waiting
// for it; such calls go before background ones.
func (l *limiter) acquire(ctx context.Context) error {
	l.mu.Lock()
	l.demand++
	defer func() {
		l.mu.Lock()
		l.demand--
		l.mu.Unlock()
	}()
	for {
		now := l.clk.Mono()
		n, per := l.capacity(now, true)
		if l.held(now, per) < n {
			l.inflight++
			l.mu.Unlock()
			return nil
		}
		at, changed := l.free(now, n, per), l.changed
		l.mu.Unlock()
		if err := l.wait(ctx, now, at, changed); err != nil {
			return err
		}
		l.mu.Lock()
	}
}

// wait sleeps until monotonic time at, a change, or the end of ctx.
func (l *limiter) wait(ctx context.Context, now, at time.Duration, changed <-chan struct{}) error {
	var timeout <-chan time.Time
	if at != noSlot {
		t := l.clk.NewTimer(at - now)
		defer t.Stop()
		timeout = t.C()
	}
	select {
	case <-timeout:
	case <-changed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// release ends a call that held a slot: answered says whether it reached
// STS (a call that never left gives its slot back at once), throttled
// whether STS answered Throttling.
func (l *limiter) release(answered, throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Read under the lock, so that done stays ascending: two answers that
	// read the clock and then raced for the lock could append out of order,
	// and the binary search in firstHolding would then count too few slots
	// held (STS saw 103 calls in one second at max_qps 100).
	now := l.clk.Mono()
	l.inflight--
	if answered {
		l.done = append(l.done, now)
	}
	if throttled {
		l.cutFrom, l.cutAt, l.cut = l.rate(now), now, true
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// Rate reports the calls per second the limiter allows now.
func (l *limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate(l.clk.Mono())
}

package refresher

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// TestLimiterAtSTS drives the limiter with calls of random latency (up to
// 3 s) that reach STS at a random moment between taking their slot and
// their answer, and checks what STS would count: never more than max_qps
// arrivals in any one-second window.
func TestLimiterAtSTS(t *testing.T) {
	for _, qps := range []float64{1, 20, 100} {
		clk := clock.NewFake(time.Unix(0, 0))
		l := newLimiter(clk, qps)
		rng := rand.New(rand.NewPCG(1, uint64(qps)))
		var arrivals []time.Duration
		q := &events{}
		calls := min(600, 100*int(qps)) // a few dozen seconds of calls at any rate
		for i := range calls {          // callers arriving every few milliseconds
			heap.Push(q, event{at: clk.Mono() + time.Duration(i)*3*time.Millisecond})
		}
		for q.Len() > 0 {
			ev := heap.Pop(q).(event)
			if d := ev.at - clk.Mono(); d > 0 {
				clk.Advance(d)
			}
			if ev.release {
				l.release(true, false)
				continue
			}
			if !l.tryAcquire(clk.Mono()) {
				at := l.nextFree(clk.Mono())
				if at == noSlot { // only answers still out can free one
					at = clk.Mono()
				}
				heap.Push(q, event{at: at + time.Duration(rng.Int64N(int64(50*time.Millisecond)))})
				continue
			}
			latency := time.Duration(rng.Int64N(int64(3 * time.Second)))
			arrivals = append(arrivals, clk.Mono()+time.Duration(rng.Int64N(int64(latency)+1)))
			heap.Push(q, event{at: clk.Mono() + latency, release: true})
		}
		slices.Sort(arrivals)
		if got := maxInWindow(arrivals, time.Second); got > int(qps) {
			t.Errorf("max_qps %v: %d calls reached STS within one second", qps, got)
		}
		if len(arrivals) != calls {
			t.Errorf("max_qps %v: %d calls made, want all %d", qps, len(arrivals), calls)
		}
	}
}

type event struct {
	at      time.Duration
	release bool
}

type events []event

func (q events) Len() int           { return len(q) }
func (q events) Less(i, j int) bool { return q[i].at < q[j].at }
func (q events) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *events) Push(x any)        { *q = append(*q, x.(event)) }
func (q *events) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// TestAbandonedWaitsHoldNothing: 1,000 callers give up while waiting for a
// slot; once the calls that held the slots have served their second, a new
// caller gets one at once. A limiter that booked future slots for the
// waiters would make it wait behind all of them.
func TestAbandonedWaitsHoldNothing(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	l := newLimiter(clk, 20)
	for range 20 {
		if err := l.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.acquire(ctx); err == nil {
			t.Fatal("acquired a slot beyond max_qps")
		}
	}
	for range 20 {
		l.release(true, false)
	}
	clk.Advance(time.Second)
	if !l.tryAcquire(clk.Mono()) {
		t.Error("no slot a second after every call answered; abandoned waits held some")
	}
}

// TestThrottlingAdaptsRate: each throttling answer cuts the rate by beta;
// without more, it regains the rate it had at the cut after recoverIn and
// never exceeds max_qps; callers without a token are never held below
// demandRate.
func TestThrottlingAdaptsRate(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	l := newLimiter(clk, 20)
	// throttle is a call that STS answered with Throttling; it needs no
	// free slot, as an answer to a call already out would not.
	throttle := func() {
		l.mu.Lock()
		l.inflight++
		l.mu.Unlock()
		l.release(true, true)
	}
	throttle()
	if r := l.Rate(); r < 13.99 || r > 14.01 {
		t.Errorf("after one throttling answer rate = %v, want 14", r)
	}
	clk.Advance(recoverIn)
	if r := l.Rate(); r < 19.99 {
		t.Errorf("recoverIn after the cut rate = %v, want back to 20", r)
	}
	clk.Advance(time.Hour)
	if r := l.Rate(); r > 20 {
		t.Errorf("rate %v above max_qps", r)
	}
	for range 60 { // answers a second apart: the rate falls to the floor
		clk.Advance(time.Second)
		throttle()
	}
	if r := l.Rate(); r != minRate {
		t.Errorf("after 60 throttling answers in a minute rate = %v, want the floor %v", r, minRate)
	}
	l.mu.Lock()
	n, per := l.capacity(clk.Mono(), true)
	l.mu.Unlock()
	if n != 1 || per > time.Duration(float64(time.Second)/demandRate) {
		t.Errorf("demand capacity %d per %v, want one call per %v at most", n, per, time.Duration(float64(time.Second)/demandRate))
	}
}

// steppingClock advances its monotonic reading by a microsecond on every
// read and yields after it, so that goroutines interleave between reading
// the clock and acting on the reading.
type steppingClock struct {
	clock.Fake
	t atomic.Int64
}

func (c *steppingClock) Mono() time.Duration {
	v := time.Duration(c.t.Add(int64(time.Microsecond)))
	runtime.Gosched()
	return v
}

// TestAnswersStayInOrder: many calls answering at once leave the answer
// times ascending, which the count of held slots (a binary search) relies
// on; out of order, it counted too few and let more than max_qps calls
// through in one second.
func TestAnswersStayInOrder(t *testing.T) {
	l := newLimiter(&steppingClock{}, 1e6)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if err := l.acquire(context.Background()); err != nil {
					t.Error(err)
					return
				}
				l.release(true, false)
			}
		}()
	}
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.IsSorted(l.done) {
		t.Errorf("answer times out of order: %d answers", len(l.done))
	}
}

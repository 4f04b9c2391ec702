package refresher

import (
	"container/heap"
	"context"
	"fmt"
	"runtime"
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
// simulated day on a fake clock: the real Warm at start, then every renewal
// at the time the refresher schedules it (dueAt, the rule RefreshDue
// applies), through the real fetch path (rate limiter, record, jittered
// refreshIn), against a counting in-process fetcher. It checks that
// AssumeRole calls never exceed max_qps in any one-second window and that
// renewals spread out instead of arriving together.
//
// Calling RefreshDue for every renewal would cost a scan of all entries
// each time (tens of thousands of scans a day), so the test keeps its own
// queue of due times and checks it against the real RefreshDue every two
// simulated hours: RefreshDue must find nothing overdue and name the same
// next due time.
func TestADayOfRenewals(t *testing.T) {
	for _, qps := range []float64{DefaultMaxQPS, 100} {
		t.Run(fmt.Sprintf("max_qps=%v", qps), func(t *testing.T) {
			sim := newDaySim(t, 1000, qps)
			sim.warm()
			warmEnd := sim.lastCall()
			sim.runUntil(sim.start + 24*time.Hour)
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

func newDaySim(t *testing.T, roles int, qps float64) *daySim {
	s := &daySim{t: t, clk: clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), cache: cache.New(10), qps: qps}
	s.start = s.clk.Mono()
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		now, mono := s.clk.Now(), s.clk.Mono()
		s.mu.Lock()
		s.calls = append(s.calls, mono)
		n := len(s.calls)
		s.mu.Unlock()
		return ossd.Credentials{AccessKeyID: "STS." + strconv.Itoa(n), AccessKeySecret: "s", SecurityToken: "t",
			Expiration: now.Add(p.Duration), LastUpdated: now}, nil
	})
	s.ref = New(Options{Fetcher: fetch, Cache: s.cache, Clock: s.clk, MaxQPS: qps, Seed: 42})
	return s
}

// lastCall returns the time of the latest AssumeRole call.
func (s *daySim) lastCall() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Max(s.calls)
}

func (s *daySim) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// warm pins every role with the real Warm, as the daemon does at start,
// moving the fake clock while Warm's fetches wait on the rate limiter.
func (s *daySim) warm() {
	ps := make([]ossd.Params, 1000)
	for i := range ps {
		ps[i] = ossd.Params{RoleARN: fmt.Sprintf("acs:ram::1234567890123456:role/r%04d", i), SessionName: "ossd-r", Duration: time.Hour}
	}
	workers := max(s.ref.o.Workers, 8) // as Warm
	s.drive(func() {
		if errs := s.ref.Warm(context.Background(), ps); len(errs) > 0 {
			s.t.Errorf("Warm: %d errors", len(errs))
		}
	}, func() int { return min(workers, len(ps)-s.callCount()) })
}

// drive runs f in a goroutine and advances the fake clock in steps of a
// tenth of the rate limiter's interval until f returns. Before each step it
// waits until parked() of f's goroutines wait on a timer, so every fetch
// happens at the fake time its rate-limiter slot names (within the step).
func (s *daySim) drive(f func(), parked func() int) {
	step := time.Duration(float64(time.Second) / s.qps / 10)
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	for {
		if parked() == 0 { // every fetch made: f only has to return
			<-done
			return
		}
		for s.clk.Timers() < parked() {
			select {
			case <-done:
				return
			default:
				runtime.Gosched()
			}
		}
		select {
		case <-done:
			return
		default:
		}
		s.clk.Advance(step)
	}
}

// runUntil renews every entry at its due time until end.
func (s *daySim) runUntil(end time.Duration) {
	q := &dueQueue{}
	for _, e := range s.cache.Entries() {
		s.push(q, e)
	}
	w := s.startRenewer()
	defer close(w.todo)
	checkEvery, nextCheck := 2*time.Hour, s.clk.Mono()+2*time.Hour
	for q.Len() > 0 && (*q)[0].at <= end {
		at := (*q)[0].at
		for nextCheck < at {
			s.advanceTo(nextCheck)
			s.checkRefreshDue(at)
			nextCheck += checkEvery
		}
		s.advanceTo(at) // a renewal that waited for a rate-limiter slot may have passed at
		it := heap.Pop(q).(dueItem)
		s.renew(w, it.e)
		s.push(q, it.e)
	}
}

func (s *daySim) advanceTo(mono time.Duration) {
	if d := mono - s.clk.Mono(); d > 0 {
		s.clk.Advance(d)
	}
}

// renew fetches e as RefreshDue would, on a worker goroutine, driving the
// clock while the fetch waits for a rate-limiter slot.
func (s *daySim) renew(w *renewer, e *cache.Entry) {
	w.todo <- e
	for {
		select {
		case <-w.done:
			return
		default:
		}
		if s.clk.Timers() < 1 {
			runtime.Gosched()
			continue
		}
		s.clk.Advance(time.Duration(float64(time.Second) / s.qps / 10))
	}
}

// renewer is the goroutine renew hands entries to.
type renewer struct {
	todo chan *cache.Entry
	done chan struct{}
}

func (s *daySim) startRenewer() *renewer {
	w := &renewer{todo: make(chan *cache.Entry), done: make(chan struct{})}
	go func() {
		for e := range w.todo {
			if _, err := s.ref.fetch(context.Background(), e); err != nil {
				s.t.Errorf("renew: %v", err)
			}
			w.done <- struct{}{}
		}
	}()
	return w
}

func (s *daySim) push(q *dueQueue, e *cache.Entry) {
	at, ok := s.ref.dueAt(e, s.clk.Now(), s.clk.Mono())
	if !ok {
		s.t.Fatalf("pinned entry %s not scheduled", e.Key)
	}
	heap.Push(q, dueItem{at, e})
}

// checkRefreshDue asks the real RefreshDue: nothing may be overdue, and the
// next due time must be the queue's.
func (s *daySim) checkRefreshDue(want time.Duration) {
	before := s.callCount()
	next := s.ref.RefreshDue(context.Background())
	if got := s.callCount() - before; got != 0 {
		s.t.Fatalf("RefreshDue at +%v renewed %d entries the simulation had not", s.clk.Mono()-s.start, got)
	}
	if next != want {
		s.t.Fatalf("RefreshDue at +%v: next due %v, simulation says %v", s.clk.Mono()-s.start, next-s.start, want-s.start)
	}
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
	// Each role renews every 24-36 minutes (half its hour, ±10%): 39 to 60
	// times in what is left of the day after its first fetch.
	if lo, hi := 1000*(1+39), 1000*(1+60); len(calls) < lo || len(calls) > hi {
		s.t.Errorf("%d calls in a day, want %d..%d", len(calls), lo, hi)
	}
	if window > int(s.qps) {
		s.t.Errorf("%d AssumeRole calls within one second, max_qps is %v", window, s.qps)
	}
	// Renewals must spread out: at most 10 in any second once the start is
	// over (the mean is under 2). Without jitter they would repeat the
	// warm-up's stream, max_qps a second.
	if limit := 10; steady > limit {
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

type dueItem struct {
	at time.Duration
	e  *cache.Entry
}

// dueQueue is a min-heap of entries by due time.
type dueQueue []dueItem

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(dueItem)) }
func (q *dueQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

package clock

import (
	"sync"
	"time"
)

// Fake is a manually advanced clock. The zero value is not usable; call
// NewFake.
type Fake struct {
	mu     sync.Mutex // guards now, mono and timers
	now    time.Time
	mono   time.Duration
	timers map[*fakeTimer]struct{}
}

// NewFake returns a Fake clock set to t.
func NewFake(t time.Time) *Fake {
	// Mono starts at an hour, not zero, so that no reading is mistaken
	// for "never".
	return &Fake{now: t, mono: time.Hour, timers: make(map[*fakeTimer]struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Mono returns the fake monotonic time.
func (f *Fake) Mono() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mono
}

// Advance lets d pass on both clocks (d must not be negative) and fires
// every timer whose deadline has been reached.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance with a negative duration; use StepWall")
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mono += d
	now := f.now
	var due []*fakeTimer
	for t := range f.timers {
		if t.when <= f.mono {
			due = append(due, t)
			delete(f.timers, t)
		}
	}
	f.mu.Unlock()
	for _, t := range due {
		select {
		case t.c <- now:
		default: // a pending tick is enough, as with time.Timer
		}
	}
}

// StepWall moves only the wall clock by d, either way, as an NTP step or
// an operator's date command does. A suspend is StepWall forward: the wall
// clock counts the time asleep, the monotonic clock does not.
func (f *Fake) StepWall(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Timers reports how many timers are armed; tests use it to wait until a
// goroutine has gone back to sleep.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// NewTimer returns a timer that fires when the fake clock reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

type fakeTimer struct {
	f    *Fake
	c    chan time.Time
	when time.Duration // monotonic deadline; guarded by f.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	_, armed := t.f.timers[t]
	delete(t.f.timers, t)
	return armed
}

func (t *fakeTimer) Reset(d time.Duration) {
	t.f.mu.Lock()
	t.when = t.f.mono + d
	if d > 0 {
		t.f.timers[t] = struct{}{}
		t.f.mu.Unlock()
		return
	}
	delete(t.f.timers, t)
	now := t.f.now
	t.f.mu.Unlock()
	select {
	case t.c <- now:
	default:
	}
}

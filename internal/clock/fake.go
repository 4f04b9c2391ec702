package clock

import (
	"sync"
	"time"
)

// Fake is a manually advanced clock. The zero value is not usable; call
// NewFake.
type Fake struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers map[*fakeTimer]struct{}
}

// NewFake returns a Fake clock set to t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, timers: make(map[*fakeTimer]struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d (or backward, if d is negative) and
// fires every timer whose deadline has been reached.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	now := f.now
	var due []*fakeTimer
	for t := range f.timers {
		if !t.when.After(now) {
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

// Set jumps the clock to t, firing due timers.
func (f *Fake) Set(t time.Time) { f.Advance(t.Sub(f.Now())) }

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
	when time.Time // guarded by f.mu
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
	t.when = t.f.now.Add(d)
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

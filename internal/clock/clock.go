// Package clock injects time. Real is the only place in the module that
// calls time.Now; tests use Fake, which moves only when told to.
//
// Both implementations are safe for concurrent use.
package clock

import "time"

// Clock tells the time and makes timers.
//
// Now is the wall clock, which matches the Expiration STS writes but can
// step (NTP, an operator) and keeps counting while the machine is
// suspended. Mono is a monotonic reading, which never steps but on Linux
// stops during suspend. Code that must not be fooled by either compares
// both. Timers run on the monotonic clock, as Go's do.
type Clock interface {
	Now() time.Time
	Mono() time.Duration
	NewTimer(d time.Duration) Timer
}

// Timer is the subset of *time.Timer the daemon uses.
type Timer interface {
	C() <-chan time.Time
	// Stop reports whether it stopped the timer before it fired.
	Stop() bool
	// Reset changes the timer to fire after d.
	Reset(d time.Duration)
}

// Real is the machine's clock.
type Real struct{}

// start anchors Real.Mono; it is set once, when the program starts.
var start = time.Now()

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Mono returns the monotonic time since the program started.
func (Real) Mono() time.Duration { return time.Since(start) }

// NewTimer returns a real timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Stop() bool            { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }

// Or returns c, or Real when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

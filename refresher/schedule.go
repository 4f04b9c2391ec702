package refresher

import "time"

// refreshIn reports how long after a fetch credentials with lifetime life
// should be renewed: at half their lifetime, moved by up to a tenth of it
// either way so that roles fetched together spread out, and always before
// the floor is reached.
func (r *Refresher) refreshIn(life time.Duration) time.Duration {
	jitter := time.Duration((r.float64()*2 - 1) * float64(life/10))
	in := life/2 + jitter
	if latest := life - r.o.Floor - life/20; in > latest && latest > 0 {
		in = latest
	}
	return in
}

// backoff returns the wait before attempt n+1 after n consecutive failures:
// full jitter over an exponentially growing window, wider when STS asked us
// to slow down.
func (r *Refresher) backoff(n int, throttled bool) time.Duration {
	base, ceiling := time.Second, maxBackoff
	if throttled {
		base, ceiling = 5*time.Second, maxThrottleWait
	}
	window := ceiling
	if n < 20 {
		window = min(ceiling, base<<(n-1))
	}
	// Full jitter, but never less than a tenth of the base, so a failing
	// STS is not hammered.
	return base/10 + time.Duration(r.float64()*float64(window))
}

func (r *Refresher) float64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.Float64()
}

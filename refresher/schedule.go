package refresher

import "time"

// refreshAt reports when credentials fetched at fetched and expiring at exp
// should be renewed: at half their lifetime, moved by up to a tenth of it
// either way so that roles fetched together spread out, and always before
// the floor is reached.
func (r *Refresher) refreshAt(fetched, exp time.Time) time.Time {
	life := exp.Sub(fetched)
	jitter := time.Duration((r.float64()*2 - 1) * float64(life/10))
	at := fetched.Add(life/2 + jitter)
	if latest := exp.Add(-r.o.Floor - life/20); at.After(latest) && latest.After(fetched) {
		at = latest
	}
	return at
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

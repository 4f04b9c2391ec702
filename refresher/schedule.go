package refresher

import (
	"time"

	"github.com/ossd/ossd"
)

// refreshIn reports how long after a fetch credentials with lifetime life
// should be renewed.
//
// The renewal point is the later of half the lifetime and the moment the
// token has floor + OutageMargin left: late enough that a long-lived token
// costs few AssumeRole calls, early enough that an STS outage of
// OutageMargin costs callers nothing (and one of OutageMargin plus floor
// minus hard minimum costs them only older tokens). It is never later than
// a twentieth of the lifetime before the floor. The renewal is placed at
// random within Spread before that point, so that tokens fetched together
// spread their renewals over a window instead of repeating their burst.
func (r *Refresher) refreshIn(life time.Duration) time.Duration {
	point := r.renewalPoint(life)
	window := min(r.o.Spread, point/2)
	return max(0, point-time.Duration(r.float64()*float64(window)))
}

// renewalPoint is refreshIn's point, before the spread places a renewal
// within the window ahead of it.
func (r *Refresher) renewalPoint(life time.Duration) time.Duration {
	point := max(life/2, life-r.o.Floor-r.o.OutageMargin)
	if latest := life - r.o.Floor - life/20; latest > 0 {
		return min(point, latest)
	}
	return life / 2 // shorter than the floor: renew at half life
}

// restoredRefreshIn reports how long from now a token kept from an
// earlier run, issued age ago with lifetime life, should be renewed: when
// it would have been had the daemon kept running, that is the rule of a
// fetch counted from its issue. Judging the life it has left as if just
// fetched would move a fleet's renewals (those with under twice the
// floor and margin left go to half of it) and stack them into one wave
// after a fleet-wide restart. When the fresh draw within the spread falls
// before now, the renewal is placed at random in what is left of the
// window, so that a restart sends nothing at once unless the renewal
// point itself has passed.
func (r *Refresher) restoredRefreshIn(life, age time.Duration) time.Duration {
	if in := r.refreshIn(life) - age; in > 0 {
		return in
	}
	left := r.renewalPoint(life) - age
	if left <= 0 {
		return 0
	}
	return time.Duration(r.float64() * float64(left))
}

// startAt reports when, after a start at monotonic time mono, the first
// fetch of a pinned role should go out: at once, or at random within
// StartSpread.
func (r *Refresher) startAt(mono time.Duration) time.Duration {
	if r.o.StartSpread <= 0 {
		return mono
	}
	return mono + time.Duration(r.float64()*float64(r.o.StartSpread))
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

// offsetWarning is how far STS's clock may be from ours before it is
// reported: tokens are judged by both clocks, so a small offset is harmless.
const offsetWarning = time.Minute

// noteOffset records how far STS's clock is from ours, from the time its
// answer says it was sent, and logs it when it exceeds offsetWarning.
func (r *Refresher) noteOffset(c ossd.Credentials, sent, received time.Time) {
	if c.ServerTime.IsZero() {
		return
	}
	offset := c.ServerTime.Sub(sent.Add(received.Sub(sent) / 2)).Round(time.Second)
	r.mu.Lock()
	prev := r.offset
	r.offset = offset
	r.mu.Unlock()
	if abs(offset) > offsetWarning && abs(offset-prev) > offsetWarning/2 {
		r.log.Warn("STS's clock differs from ours; tokens are served for no longer than the lifetime asked for, by our monotonic clock",
			"clock_offset", offset.String())
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

package refresher

import (
	"errors"
	"fmt"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

// ErrNotRestorable is returned by Restore for a token it does not install.
var ErrNotRestorable = errors.New("token not restorable")

// issueSlack is how much longer than the requested duration a restored
// token may claim to live, counted from its LastUpdated: LastUpdated is the
// local time the AssumeRole call started, Expiration is STS's issue time
// plus the duration, so the call's latency and the clock difference with
// STS show up here.
const issueSlack = time.Minute

// Restore installs c, a token issued for p before the daemon last
// restarted, as the state of p's entry (pinned, or on demand), as if it had
// been fetched now. Its remaining life is judged by the wall clock at the
// time of the call, and never taken for more than p.Duration after its
// LastUpdated; it is renewed when it would have been had the daemon kept
// running (see restoredRefreshIn). The caller has matched p to the running
// config; Restore checks the token itself and returns an error wrapping [ErrNotRestorable],
// installing nothing, when c is incomplete, has no more than the floor
// left, was issued in the future (the wall clock stepped back), claims
// more than p.Duration since its LastUpdated, or the entry already holds a
// token.
//
// Call it before Run and before serving: an entry fetched concurrently may
// be overwritten by the restored token.
func (r *Refresher) Restore(p ossd.Params, c ossd.Credentials, pinned bool) error {
	now, mono := r.clock.Now(), r.clock.Mono()
	if err := r.restorable(p, c, now); err != nil {
		return err
	}
	var e *cache.Entry
	if pinned {
		e = r.o.Cache.Pin(p)
	} else {
		e, _ = r.o.Cache.GetOrAdd(p)
	}
	if e.State() != nil {
		return fmt.Errorf("%w: the entry already holds a token", ErrNotRestorable)
	}
	st := &State{Fetched: mono, LastAttempt: mono,
		// As after a fetch, never believe more life than was asked for,
		// here counted from the token's issue by the wall clock: what is
		// left of it is the most the monotonic clock will allow.
		Deadline: mono + c.LastUpdated.Add(p.Duration).Sub(now)}
	st.SetCreds(c, now)
	life := min(p.Duration, c.Expiration.Sub(c.LastUpdated))
	st.RefreshAt = mono + r.restoredRefreshIn(life, now.Sub(c.LastUpdated))
	e.SetState(st)
	r.o.Cache.Schedule(e, st.RefreshAt)
	r.notify()
	return nil
}

// restorable checks c, kept for p, at wall time now.
func (r *Refresher) restorable(p ossd.Params, c ossd.Credentials, now time.Time) error {
	switch {
	case !c.Valid(now, 0):
		return fmt.Errorf("%w: incomplete or expired", ErrNotRestorable)
	case c.LastUpdated.IsZero() || c.LastUpdated.After(now):
		return fmt.Errorf("%w: issued %s, after now (the wall clock stepped back?)", ErrNotRestorable, c.LastUpdated.UTC().Format(ossd.TimeLayout))
	case c.Expiration.Sub(c.LastUpdated) > p.Duration+issueSlack:
		return fmt.Errorf("%w: lives %s from its issue, longer than the %s requested", ErrNotRestorable,
			c.Expiration.Sub(c.LastUpdated).Round(time.Second), p.Duration)
	case !c.Valid(now, r.o.Floor) || c.LastUpdated.Add(p.Duration).Sub(now) <= r.o.Floor:
		left := min(c.Expiration.Sub(now), c.LastUpdated.Add(p.Duration).Sub(now))
		return fmt.Errorf("%w: %s left, no more than the floor (%s)", ErrNotRestorable, left.Round(time.Second), r.o.Floor)
	}
	return nil
}

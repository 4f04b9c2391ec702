package refresher

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

const (
	// idle is how long Run sleeps when nothing is scheduled.
	idle = time.Hour
	// overdueRetry spaces renewals of a token already below the floor (a
	// clock jump, or STS issuing tokens shorter than the floor).
	overdueRetry = time.Minute
)

// Run renews tokens ahead of expiry until ctx ends. It returns nil when ctx
// is cancelled.
func (r *Refresher) Run(ctx context.Context) error {
	t := r.clock.NewTimer(idle)
	defer t.Stop()
	for {
		next := r.RefreshDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		t.Stop()
		t.Reset(max(next-r.clock.Mono(), 0))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		case <-r.wake:
		}
	}
}

// RefreshDue deals with every entry that is due at the current time, as far
// as the rate limit allows now, waits for the fetches it started, and
// reports the monotonic time something is next due. It never waits for the
// rate limit: what it cannot fetch now stays due, and the time it reports
// is when a slot comes free. While STS has throttled us it fetches nothing
// and reports when the pause ends.
//
// Each fetch first waits for a free worker and only then takes its entry
// and its rate-limit slot, so that an answer that came back meanwhile
// (Throttling, which pauses renewal) is heeded before another call goes
// out. With one worker, fetches are strictly one after the other.
func (r *Refresher) RefreshDue(ctx context.Context) time.Duration {
	workers := make(chan struct{}, r.o.Workers)
	var wg sync.WaitGroup
	var batch [1]*cache.Entry
	for ctx.Err() == nil {
		workers <- struct{}{}
		e := r.nextRenewal(batch[:0])
		if e == nil {
			<-workers
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-workers; wg.Done() }()
			// The outcome is recorded on the entry; background renewal never
			// fails the loop.
			_, _ = r.fetch(ctx, e)
		}()
	}
	wg.Wait()
	return r.nextDue()
}

// nextRenewal takes off the schedule the next entry to renew now, holding
// a rate-limit slot for it, and returns nil when there is none: nothing is
// due, background renewal is paused, or the rate limit has no slot (the
// entry stays due, first in line).
func (r *Refresher) nextRenewal(batch []*cache.Entry) *cache.Entry {
	for {
		mono := r.clock.Mono()
		if paused, _ := r.throttled(mono); paused {
			return nil
		}
		due := r.o.Cache.PopDue(mono, 1, batch)
		if len(due) == 0 {
			return nil
		}
		e := due[0]
		if !r.renewable(e, r.clock.Now(), mono) {
			continue
		}
		if !r.limiter.tryAcquire(mono) {
			r.o.Cache.Schedule(e, mono)
			return nil
		}
		return e
	}
}

// nextDue reports when RefreshDue has something to do: the earliest due
// entry, but not before a throttling pause ends or a rate-limit slot comes
// free. With nothing scheduled, or only an answer still out able to free a
// slot (its arrival wakes Run), it is idle from now.
func (r *Refresher) nextDue() time.Duration {
	mono := r.clock.Mono()
	at, ok := r.o.Cache.NextDue()
	if !ok {
		return mono + idle
	}
	if paused, until := r.throttled(mono); paused {
		return max(at, until)
	}
	if at > mono {
		return at
	}
	if free := r.limiter.nextFree(mono); free != noSlot {
		return free
	}
	return mono + idle
}

// renewable decides what to do with an entry that has come due, at wall
// time now and monotonic time mono: it reports true if it should be
// fetched. An on-demand session that nobody used since its last fetch is
// not renewed: it is parked, to be scheduled again by its next use, or
// dropped from the cache once its token has no more than the hard minimum
// left.
func (r *Refresher) renewable(e *cache.Entry, now time.Time, mono time.Duration) bool {
	s := e.State()
	switch {
	case e.Gone():
		return false
	case e.Pinned():
		return true
	case s == nil:
		return false // a caller is fetching it
	}
	since := s.Fetched
	if s.Err != nil {
		since = s.LastAttempt
	}
	if e.LastAccess() > since {
		return true // used since: renew
	}
	var left time.Duration
	if s.Creds().Valid(now, 0) {
		left = s.Remaining(now, mono)
	}
	if left <= r.o.HardMin {
		r.o.Cache.Remove(e)
		return false
	}
	e.Park()
	if e.LastAccess() > since && e.Unpark() {
		return true // used between the look and the park
	}
	r.o.Cache.Schedule(e, mono+left-r.o.HardMin) // when to drop it, unless used again
	return false
}

// reschedule puts e back on the schedule after a use, at the time its state
// says it is due, or now if that has passed.
func (r *Refresher) reschedule(e *cache.Entry, mono time.Duration) {
	at := mono
	if s := e.State(); s != nil {
		if s.Err != nil {
			at = max(at, s.RetryAt)
		} else {
			at = max(at, s.RefreshAt)
		}
	}
	r.o.Cache.Schedule(e, at)
	r.notify()
}

// Start pins ps (the configured roles) in the cache and schedules the first
// fetch of each one that has no token with more than the floor left, at
// once or spread over StartSpread. It does not wait: a caller asking for a
// role not fetched yet fetches it at once, ahead of the others. It returns
// the pinned entries, in the order of ps.
func (r *Refresher) Start(ps []ossd.Params) []*cache.Entry {
	now, mono := r.clock.Now(), r.clock.Mono()
	entries := make([]*cache.Entry, len(ps))
	for i, p := range ps {
		e := r.o.Cache.Pin(p)
		entries[i] = e
		if _, ok := e.Lookup(now, mono, r.o.Floor); ok {
			r.reschedule(e, mono)
			continue
		}
		if _, scheduled := r.o.Cache.Due(e); !scheduled || e.State() == nil {
			r.o.Cache.Schedule(e, r.startAt(mono))
		}
	}
	r.notify()
	return entries
}

// Warm pins ps and fetches, in parallel within the rate limit, each one
// that has no token with more than the floor left, waiting for the
// results. It returns the errors by key; a role that fails stays pinned and
// is retried by Run.
func (r *Refresher) Warm(ctx context.Context, ps []ossd.Params) map[ossd.Key]error {
	entries := r.Start(ps)
	errs := make([]error, len(entries))
	var g errgroup.Group
	g.SetLimit(max(r.o.Workers, 8))
	for i, e := range entries {
		if _, ok := e.Lookup(r.clock.Now(), r.clock.Mono(), r.o.Floor); ok {
			continue
		}
		g.Go(func() error {
			_, errs[i] = r.fetchWait(ctx, e)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil; errors are collected in errs
	out := make(map[ossd.Key]error)
	for i, err := range errs {
		if err != nil {
			out[entries[i].Key] = err
		}
	}
	return out
}

// Forget unpins k and drops its token.
func (r *Refresher) Forget(k ossd.Key) { r.o.Cache.Unpin(k) }

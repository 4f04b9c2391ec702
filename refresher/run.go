package refresher

import (
	"context"
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

// RefreshDue renews every entry that is due at the current time, waits for
// those renewals, and reports the monotonic time the next one is due.
func (r *Refresher) RefreshDue(ctx context.Context) time.Duration {
	now, mono := r.clock.Now(), r.clock.Mono()
	next := mono + idle
	var due []*cache.Entry
	throttled := r.throttled(mono)
	for _, e := range r.o.Cache.Entries() {
		at, ok := r.dueAt(e, now, mono)
		if !ok {
			continue
		}
		if at > mono || throttled {
			next = min(next, at)
			continue
		}
		due = append(due, e)
	}
	if throttled {
		r.mu.Lock()
		next = min(next, r.throttledUntil)
		r.mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Workers)
	for _, e := range due {
		if gctx.Err() != nil || r.throttled(r.clock.Mono()) {
			break
		}
		g.Go(func() error {
			_, err := r.fetch(gctx, e)
			_ = err // recorded on the entry by doFetch; background renewal never fails the loop
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil
	now, mono = r.clock.Now(), r.clock.Mono()
	for _, e := range due {
		if at, ok := r.dueAt(e, now, mono); ok {
			next = min(next, at)
		}
	}
	return next
}

// dueAt reports the monotonic time e should next be fetched in the
// background, and whether it should be at all. A token already below the
// floor is due now, whatever its schedule said: the wall clock may have
// jumped. On-demand sessions are renewed only while callers keep using
// them; idle ones simply expire.
func (r *Refresher) dueAt(e *cache.Entry, now time.Time, mono time.Duration) (time.Duration, bool) {
	s := e.State()
	switch {
	case s == nil:
		return 0, e.Pinned() // a pinned entry not yet fetched is due now
	case s.Err != nil:
		if !e.Pinned() && e.LastAccess() <= s.LastAttempt {
			return 0, false
		}
		return s.RetryAt, true
	case !e.Pinned() && e.LastAccess() <= s.Fetched:
		return 0, false
	case s.Remaining(now, mono) <= r.o.Floor:
		return min(s.RefreshAt, s.LastAttempt+overdueRetry), true
	}
	return s.RefreshAt, true
}

// Warm fetches ps (the configured roles) once, in parallel within the rate
// limit, pinning each in the cache. It returns the errors by key; a role
// that fails stays pinned and is retried by Run.
func (r *Refresher) Warm(ctx context.Context, ps []ossd.Params) map[ossd.Key]error {
	entries := make([]*cache.Entry, len(ps))
	for i, p := range ps {
		entries[i] = r.o.Cache.Pin(p)
	}
	errs := make([]error, len(entries))
	var g errgroup.Group
	g.SetLimit(max(r.o.Workers, 8))
	for i, e := range entries {
		if _, ok := e.Lookup(r.clock.Now(), r.clock.Mono(), r.o.Floor); ok {
			continue
		}
		g.Go(func() error {
			_, errs[i] = r.fetch(ctx, e)
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
	r.notify()
	return out
}

// Forget unpins k and drops its token.
func (r *Refresher) Forget(k ossd.Key) { r.o.Cache.Unpin(k) }

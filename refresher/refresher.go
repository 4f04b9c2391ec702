package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
)

// Defaults, from SPEC §5: clients refetch on every call once 180 s or less
// remain, Node and Python once 15 min remain.
const (
	DefaultFloor        = 16 * time.Minute
	DefaultHardMin      = 5 * time.Minute
	DefaultMaxQPS       = 20
	DefaultTimeout      = 5 * time.Second
	DefaultOutageMargin = 5 * time.Minute
	DefaultSpread       = 5 * time.Minute
	defaultWorkers      = 4
	maxBackoff          = 2 * time.Minute
	maxThrottleWait     = 5 * time.Minute
)

// ErrNoCredentials is returned when no token with more than the hard minimum
// left can be had. It wraps the last STS error.
var ErrNoCredentials = errors.New("no valid credentials")

// Options configure a Refresher. Fetcher and Cache are required.
type Options struct {
	Fetcher ossd.Fetcher
	Cache   *cache.Cache
	Clock   clock.Clock  // nil = real
	Log     *slog.Logger // nil = discard
	Floor   time.Duration
	HardMin time.Duration
	MaxQPS  float64
	Timeout time.Duration // per fetch
	// OutageMargin is how much lifetime above the floor a token still has
	// when it is renewed at the latest: an STS outage that long costs
	// callers nothing. Renewing later spends fewer AssumeRole calls. Zero
	// means DefaultOutageMargin, negative none.
	OutageMargin time.Duration
	// Spread is the window, ending at the renewal point, over which each
	// renewal is placed at random, so that tokens fetched together do not
	// renew together. Zero means DefaultSpread, negative none.
	Spread time.Duration
	// StartSpread is the window over which Start places the first fetches
	// of the roles it pins; zero fetches them at once. A caller asking for
	// a role not fetched yet never waits for its turn.
	StartSpread time.Duration
	Seed        uint64 // jitter seed; 0 = random
	Workers     int    // concurrent background fetches
	// Observer, if set, sees every fetch and every lookup (metrics).
	Observer Observer
}

// Observer is told what the refresher does. Implementations must be fast
// and safe for concurrent use.
type Observer interface {
	// Fetched reports one AssumeRole attempt for k.
	Fetched(k ossd.Key, err error, took time.Duration)
	// Served reports how a lookup was answered: "hit" (from cache),
	// "degraded" (cached token below the floor while renewal fails), "miss"
	// (waited on STS) or "error".
	Served(result string)
}

type nopObserver struct{}

func (nopObserver) Fetched(ossd.Key, error, time.Duration) {}
func (nopObserver) Served(string)                          {}

// Refresher keeps the entries of a Cache fresh.
type Refresher struct {
	o       Options
	clock   clock.Clock
	log     *slog.Logger
	group   singleflight.Group
	limiter *limiter
	wake    chan struct{}

	mu             sync.Mutex // guards rng, throttledUntil, throttles and offset
	rng            *rand.Rand
	throttledUntil time.Duration // monotonic; background renewal waits until then
	throttles      int           // consecutive throttling answers
	offset         time.Duration // STS's clock minus ours, at the last fetch
}

// New returns a Refresher. Zero durations and rates take the defaults.
func New(o Options) *Refresher {
	if o.Floor <= 0 {
		o.Floor = DefaultFloor
	}
	if o.HardMin <= 0 {
		o.HardMin = DefaultHardMin
	}
	if o.MaxQPS <= 0 {
		o.MaxQPS = DefaultMaxQPS
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.OutageMargin < 0 {
		o.OutageMargin = 0
	} else if o.OutageMargin == 0 {
		o.OutageMargin = DefaultOutageMargin
	}
	if o.Spread < 0 {
		o.Spread = 0
	} else if o.Spread == 0 {
		o.Spread = DefaultSpread
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	clk := clock.Or(o.Clock)
	return &Refresher{
		o:       o,
		clock:   clk,
		log:     o.Log.With("component", "refresher"),
		limiter: newLimiter(clk, o.MaxQPS),
		wake:    make(chan struct{}, 1),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// Floor returns the least remaining validity Get normally hands out.
func (r *Refresher) Floor() time.Duration { return r.o.Floor }

// HardMin returns the least remaining validity Get ever hands out.
func (r *Refresher) HardMin() time.Duration { return r.o.HardMin }

// Rate reports the AssumeRole calls per second the refresher allows itself
// now: max_qps, or less after STS answered Throttling.
func (r *Refresher) Rate() float64 { return r.limiter.Rate() }

// ClockOffset reports how far STS's clock was ahead of ours (negative:
// behind) at the last successful fetch.
func (r *Refresher) ClockOffset() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offset
}

// Get returns credentials for p with more than the floor left, or, while
// renewal is failing, with more than the hard minimum left. It waits on STS
// only when no such token is cached.
func (r *Refresher) Get(ctx context.Context, p ossd.Params) (ossd.Credentials, error) {
	e, _ := r.o.Cache.GetOrAdd(p)
	return r.GetEntry(ctx, e)
}

// GetEntry is Get for an entry already in the cache.
func (r *Refresher) GetEntry(ctx context.Context, e *cache.Entry) (ossd.Credentials, error) {
	mono := r.clock.Mono()
	if c, result, ok := r.cached(e, r.clock.Now(), mono); ok {
		r.o.Observer.Served(result)
		return c, nil
	}
	if s := e.State(); s != nil && s.Err != nil && mono < s.LastAttempt+demandRetry {
		// Callers arriving just after a failure share its answer rather
		// than each asking STS again.
		r.o.Observer.Served("error")
		return ossd.Credentials{}, r.noCreds(e, s.Err)
	}
	s, err := r.fetchWait(ctx, e)
	if err == nil && !s.Creds().Valid(r.clock.Now(), r.o.HardMin) {
		// STS issued a token that is already too short to hand out (a very
		// short session, or a clock that runs ahead of STS's).
		err = r.noCreds(e, &ossd.STSError{Code: "ossd.ShortToken", Message: "STS issued credentials with no more than the hard minimum left"})
	}
	if err != nil {
		r.o.Observer.Served("error")
		return ossd.Credentials{}, err
	}
	// Counted as served, but not as a use since the fetch: a session asked
	// for once is not renewed.
	e.Touch(s.Fetched)
	r.o.Observer.Served("miss")
	return s.Creds(), nil
}

// cached is GetEntry's answer from the cache at wall time now and monotonic
// time mono: the token if it has more than the floor left ("hit"), else if
// it has more than the hard minimum ("degraded": renewal is late or
// failing, so one is made due), else nothing.
func (r *Refresher) cached(e *cache.Entry, now time.Time, mono time.Duration) (ossd.Credentials, string, bool) {
	if c, ok := e.Lookup(now, mono, r.o.Floor); ok {
		r.touch(e, mono)
		return c, "hit", true
	}
	if c, ok := e.Lookup(now, mono, r.o.HardMin); ok {
		r.touch(e, mono)
		r.overdue(e, mono)
		return c, "degraded", true
	}
	return ossd.Credentials{}, "", false
}

// demandRetry is how soon after a failed attempt a caller without a token
// makes STS try again: promptly, whatever the backoff of background
// renewal, so that service resumes within seconds of STS recovering.
const demandRetry = time.Second

// touch records a use of e; a parked session goes back on the schedule.
func (r *Refresher) touch(e *cache.Entry, mono time.Duration) {
	if e.Touch(mono) {
		r.reschedule(e, mono)
	}
}

func (r *Refresher) noCreds(e *cache.Entry, err error) error {
	return fmt.Errorf("%w for %s: %w", ErrNoCredentials, e.Key.RoleARN, err)
}

// overdue makes a renewal of e due now unless a backoff is in force or one
// was tried within overdueRetry: its token is below the floor, so renewal
// is overdue whatever its schedule says.
func (r *Refresher) overdue(e *cache.Entry, mono time.Duration) {
	s := e.State()
	at := mono
	if s != nil {
		at = max(at, s.RetryAt, s.LastAttempt+overdueRetry)
	}
	if due, ok := r.o.Cache.Due(e); ok && due <= at {
		return
	}
	r.o.Cache.Schedule(e, at)
	r.notify()
}

// fetchWait fetches e through singleflight and waits for the result or ctx.
// The fetch itself runs detached from ctx: one caller hanging up must not
// fail the others.
func (r *Refresher) fetchWait(ctx context.Context, e *cache.Entry) (*State, error) {
	ch := r.group.DoChan(e.Key.String(), func() (any, error) {
		// A caller that missed the cache just before a flight for the same
		// key landed starts a new flight: look again before calling STS.
		if s := e.State(); s != nil && s.Err == nil {
			if _, ok := e.Lookup(r.clock.Now(), r.clock.Mono(), r.o.Floor); ok {
				return s, nil
			}
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.Timeout)
		defer cancel()
		if !r.parentReady(e) {
			r.fetchParent(fctx, e)
		}
		if err := r.limiter.acquire(fctx); err != nil {
			return nil, errNoSlot
		}
		return r.doFetch(fctx, e)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, r.noCreds(e, res.Err)
		}
		s := res.Val.(*State)
		r.adopt(e, s)
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// adopt gives e the state a flight recorded, when the flight was started
// for another entry of the same key (e replaced one that was evicted or
// re-pinned while the fetch was out) and e has nothing newer.
func (r *Refresher) adopt(e *cache.Entry, s *State) {
	if cur := e.State(); cur == s || (cur != nil && cur.LastAttempt >= s.LastAttempt) {
		return
	}
	e.SetState(s)
	r.reschedule(e, r.clock.Mono())
}

// fetch renews e for the background, holding a slot already taken from the
// limiter, through the same singleflight as callers.
func (r *Refresher) fetch(ctx context.Context, e *cache.Entry) (*State, error) {
	if !r.parentReady(e) {
		// Give the slot back while the parent is fetched, then wait for one.
		r.limiter.release(false, false)
		r.fetchParent(ctx, e)
		actx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		err := r.limiter.acquire(actx)
		cancel()
		if err != nil {
			return nil, r.failed(e, errNoSlot, false, r.clock.Mono())
		}
	}
	ran := false
	v, err, _ := r.group.Do(e.Key.String(), func() (any, error) {
		ran = true
		fctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		defer cancel()
		return r.doFetch(fctx, e)
	})
	if !ran {
		// A caller's flight was under way and answered instead: the slot
		// taken for this one never went out.
		r.limiter.release(false, false)
	}
	if err != nil {
		return nil, err
	}
	s := v.(*State)
	r.adopt(e, s)
	return s, nil
}

// errNoSlot is the answer when the limiter has no slot before the fetch's
// timeout.
var errNoSlot = &ossd.STSError{Code: "ossd.RateLimited", Message: "local AssumeRole rate limit (sts.max_qps) left no slot in time"}

// parentReady reports whether e's fetch can sign at once: e is not a
// chained role, or its parent (p.Via) has a token above the hard minimum
// cached. Otherwise the parent must be fetched first, and that fetch needs
// a rate-limit slot of its own: a child that held its slot while waiting on
// it could starve it (at max_qps 1, or with as many cold children of one
// parent as there are slots), and neither would ever be fetched.
func (r *Refresher) parentReady(e *cache.Entry) bool {
	p := e.Params()
	if p.Via == nil {
		return true
	}
	pe, ok := r.o.Cache.Get(p.Via.Key())
	if !ok {
		return false
	}
	_, ok = pe.Lookup(r.clock.Now(), r.clock.Mono(), r.o.HardMin)
	return ok
}

// fetchParent gets the token of e's parent before e takes a slot. A
// failure is left to e's own fetch, which meets it again (shared, without
// a second call) and records it on e.
func (r *Refresher) fetchParent(ctx context.Context, e *cache.Entry) {
	_, _ = r.Get(ctx, *e.Params().Via)
}

// doFetch makes one AssumeRole call, holding a limiter slot, records its
// outcome on e and gives the slot back.
func (r *Refresher) doFetch(ctx context.Context, e *cache.Entry) (*State, error) {
	sentWall, sent := r.clock.Now(), r.clock.Mono()
	c, err := r.o.Fetcher.Fetch(ctx, e.Params())
	now, mono := r.clock.Now(), r.clock.Mono()
	if err == nil && !c.Valid(now, 0) {
		err = &ossd.STSError{Code: "ossd.ExpiredOnArrival", Message: "STS returned credentials that are already expired or incomplete"}
	}
	throttled := ossd.IsThrottled(err)
	r.limiter.release(true, throttled)
	r.o.Observer.Fetched(e.Key, err, mono-sent)
	if err != nil {
		return nil, r.failed(e, err, throttled, mono)
	}
	return r.succeeded(e, c, sentWall, sent, now, mono), nil
}

// succeeded records fresh credentials c on e, asked for at sentWall (wall)
// and sent (monotonic) and received at now and mono.
func (r *Refresher) succeeded(e *cache.Entry, c ossd.Credentials, sentWall time.Time, sent time.Duration, now time.Time, mono time.Duration) *State {
	if limit := sentWall.Add(e.Key.Duration); c.Expiration.After(limit.Add(offsetWarning)) {
		// STS's clock runs well ahead of ours, and so of our callers' (they
		// share this host's clock): its Expiration would tell them the token
		// lasts longer than it does. Serve the lifetime asked for.
		c.Expiration = limit.UTC().Truncate(time.Second)
	}
	r.noteOffset(c, sentWall, now)
	s := &State{Fetched: mono, LastAttempt: mono,
		// Never believe more life than was asked for, measured from when the
		// request left on the clock that does not step: a server clock
		// ahead of ours would otherwise make a token look longer-lived.
		Deadline: sent + e.Key.Duration}
	s.SetCreds(c, now) // ServerTime, read, is not kept: what is kept is what callers get
	life := s.Remaining(now, mono)
	s.RefreshAt = mono + r.refreshIn(life)
	e.SetState(s)
	r.o.Cache.Schedule(e, s.RefreshAt)
	r.mu.Lock()
	r.throttles = 0
	r.mu.Unlock()
	if life <= r.o.Floor {
		r.log.Warn("STS issued a token shorter than the floor", "role", e.Key.RoleARN, "expires_in", life.Round(time.Second))
	}
	r.notify()
	return s
}

// failed records a failed attempt on e at monotonic time mono and returns
// err.
func (r *Refresher) failed(e *cache.Entry, err error, throttled bool, mono time.Duration) error {
	old := e.State()
	next := &State{LastAttempt: mono, Err: err, Failures: 1}
	if old != nil {
		next.KeepCreds(old)
		next.Fetched, next.RefreshAt, next.Deadline = old.Fetched, old.RefreshAt, old.Deadline
		next.Failures = old.Failures + 1
	}
	wait := r.backoff(next.Failures, throttled)
	if throttled {
		// Throttling is about the account, not the role: pause all
		// background renewal, longer with each throttling answer in a row.
		r.mu.Lock()
		r.throttles++
		n := r.throttles
		r.mu.Unlock()
		wait = max(wait, r.backoff(n, true))
		r.mu.Lock()
		r.throttledUntil = max(r.throttledUntil, mono+wait)
		r.mu.Unlock()
	}
	next.RetryAt = mono + wait
	e.SetState(next)
	r.o.Cache.Schedule(e, next.RetryAt)
	r.log.Warn("AssumeRole failed", "role", e.Key.RoleARN, "session", e.Key.SessionName,
		"code", ossd.ErrorCode(err), "err", err, "failures", next.Failures, "retry_in", wait.Round(time.Millisecond))
	r.notify()
	return err
}

// State is an alias so callers of this package need not import cache.
type State = cache.State

// throttled reports whether background renewal is paused at mono, and
// until when.
func (r *Refresher) throttled(mono time.Duration) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return mono < r.throttledUntil, r.throttledUntil
}

func (r *Refresher) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

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
	DefaultFloor    = 16 * time.Minute
	DefaultHardMin  = 5 * time.Minute
	DefaultMaxQPS   = 20
	DefaultTimeout  = 5 * time.Second
	defaultWorkers  = 4
	maxBackoff      = 2 * time.Minute
	maxThrottleWait = 5 * time.Minute
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
	Seed    uint64        // jitter seed; 0 = random
	Workers int           // concurrent background fetches
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
	limiter *window
	wake    chan struct{}

	mu             sync.Mutex // guards rng and throttledUntil
	rng            *rand.Rand
	throttledUntil time.Duration // monotonic
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
	return &Refresher{
		o:       o,
		clock:   clock.Or(o.Clock),
		log:     o.Log.With("component", "refresher"),
		limiter: newWindow(o.MaxQPS),
		wake:    make(chan struct{}, 1),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// Floor returns the least remaining validity Get normally hands out.
func (r *Refresher) Floor() time.Duration { return r.o.Floor }

// Get returns credentials for p with more than the floor left, or, while
// renewal is failing, with more than the hard minimum left. It waits on STS
// only when no such token is cached.
func (r *Refresher) Get(ctx context.Context, p ossd.Params) (ossd.Credentials, error) {
	e, _ := r.o.Cache.GetOrAdd(p)
	return r.GetEntry(ctx, e)
}

// GetEntry is Get for an entry already in the cache.
func (r *Refresher) GetEntry(ctx context.Context, e *cache.Entry) (ossd.Credentials, error) {
	now, mono := r.clock.Now(), r.clock.Mono()
	if c, ok := e.Lookup(now, mono, r.o.Floor); ok {
		e.Touch(mono)
		r.o.Observer.Served("hit")
		return c, nil
	}
	if c, ok := e.Lookup(now, mono, r.o.HardMin); ok {
		// Degraded: renewal is late or failing. Serve the still-valid token
		// and make sure a renewal is under way.
		e.Touch(mono)
		r.kick(e, mono)
		r.o.Observer.Served("degraded")
		return c, nil
	}
	if s := e.State(); s != nil && s.Err != nil && mono < s.RetryAt {
		r.o.Observer.Served("error")
		return ossd.Credentials{}, r.noCreds(e, s.Err)
	}
	c, err := r.fetchWait(ctx, e)
	if err == nil && !c.Valid(r.clock.Now(), r.o.HardMin) {
		// STS issued a token that is already too short to hand out (a very
		// short session, or a clock that runs ahead of STS's).
		err = r.noCreds(e, &ossd.STSError{Code: "ossd.ShortToken", Message: "STS issued credentials with no more than the hard minimum left"})
	}
	if err != nil {
		r.o.Observer.Served("error")
		return ossd.Credentials{}, err
	}
	e.Touch(r.clock.Mono())
	r.o.Observer.Served("miss")
	return c, nil
}

func (r *Refresher) noCreds(e *cache.Entry, err error) error {
	return fmt.Errorf("%w for %s: %w", ErrNoCredentials, e.Params.RoleARN, err)
}

// kick starts a background renewal of e unless a backoff is in force or
// another renewal is under way. The token is below the floor, so renewal
// is overdue whatever its schedule says.
func (r *Refresher) kick(e *cache.Entry, mono time.Duration) {
	if s := e.State(); s != nil && (mono < s.RetryAt || mono < s.LastAttempt+overdueRetry) {
		return
	}
	if r.throttled(mono) || !e.StartRenewal() {
		return
	}
	go func() {
		defer e.EndRenewal()
		if _, err := r.fetch(context.Background(), e); err != nil {
			r.log.Debug("background renewal failed", "role", e.Params.RoleARN, "err", err)
		}
	}()
}

// fetchWait fetches e through singleflight and waits for the result or ctx.
// The fetch itself runs detached from ctx: one caller hanging up must not
// fail the others.
func (r *Refresher) fetchWait(ctx context.Context, e *cache.Entry) (ossd.Credentials, error) {
	ch := r.group.DoChan(e.Key.String(), func() (any, error) {
		// A caller that missed the cache just before a flight for the same
		// key landed starts a new flight: look again before calling STS.
		if c, ok := e.Lookup(r.clock.Now(), r.clock.Mono(), r.o.Floor); ok {
			return c, nil
		}
		return r.doFetch(context.WithoutCancel(ctx), e)
	})
	select {
	case res := <-ch:
		c, _ := res.Val.(ossd.Credentials) // zero on error
		if res.Err != nil {
			return ossd.Credentials{}, r.noCreds(e, res.Err)
		}
		return c, nil
	case <-ctx.Done():
		return ossd.Credentials{}, ctx.Err()
	}
}

// fetch is fetchWait for background callers.
func (r *Refresher) fetch(ctx context.Context, e *cache.Entry) (ossd.Credentials, error) {
	v, err, _ := r.group.Do(e.Key.String(), func() (any, error) { return r.doFetch(ctx, e) })
	c, _ := v.(ossd.Credentials)
	return c, err
}

// doFetch makes one rate-limited AssumeRole call and records its outcome.
func (r *Refresher) doFetch(ctx context.Context, e *cache.Entry) (ossd.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	sent, err := r.waitLimiter(ctx)
	if err != nil {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.RateLimited", Message: "local AssumeRole rate limit (sts.max_qps) left no slot in time"}
	}
	sent()
	start := r.clock.Mono()
	c, err := r.o.Fetcher.Fetch(ctx, e.Params)
	now, mono := r.clock.Now(), r.clock.Mono()
	if err == nil && !c.Valid(now, 0) {
		err = &ossd.STSError{Code: "ossd.ExpiredOnArrival", Message: "STS returned credentials that are already expired or incomplete"}
	}
	r.o.Observer.Fetched(e.Key, err, mono-start)
	r.record(e, c, err, now, mono)
	if err != nil {
		return ossd.Credentials{}, err
	}
	return c, nil
}

// waitLimiter takes a slot from the shared AssumeRole rate limit, waiting on
// the injected clock, and returns a func to call as the request goes out.
func (r *Refresher) waitLimiter(ctx context.Context) (sent func(), err error) {
	slot, d := r.limiter.reserve(r.clock.Mono())
	sent = func() { r.limiter.sent(slot, r.clock.Mono()) }
	if d <= 0 {
		return sent, nil
	}
	t := r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return sent, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// record publishes the outcome of a fetch attempt on e, made at wall time
// now and monotonic time mono.
func (r *Refresher) record(e *cache.Entry, c ossd.Credentials, err error, now time.Time, mono time.Duration) {
	old := e.State()
	if err == nil {
		life := c.Expiration.Sub(now)
		e.SetState(&State{Creds: c, FetchedAt: now, Fetched: mono, RefreshAt: mono + r.refreshIn(life), LastAttempt: mono})
		if life <= r.o.Floor {
			r.log.Warn("STS issued a token shorter than the floor", "role", e.Params.RoleARN, "expires_in", life.Round(time.Second))
		}
		r.notify()
		return
	}
	next := &State{LastAttempt: mono, Err: err, Failures: 1}
	if old != nil {
		next.Creds, next.FetchedAt, next.Fetched, next.RefreshAt = old.Creds, old.FetchedAt, old.Fetched, old.RefreshAt
		next.Failures = old.Failures + 1
	}
	throttled := ossd.IsThrottled(err)
	wait := r.backoff(next.Failures, throttled)
	next.RetryAt = mono + wait
	if throttled {
		r.mu.Lock()
		r.throttledUntil = max(r.throttledUntil, next.RetryAt)
		r.mu.Unlock()
	}
	e.SetState(next)
	r.log.Warn("AssumeRole failed", "role", e.Params.RoleARN, "session", e.Params.SessionName,
		"code", ossd.ErrorCode(err), "err", err, "failures", next.Failures, "retry_in", wait.Round(time.Millisecond))
	r.notify()
}

// State is an alias so callers of this package need not import cache.
type State = cache.State

func (r *Refresher) throttled(mono time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return mono < r.throttledUntil
}

func (r *Refresher) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

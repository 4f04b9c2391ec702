package fleet

import (
	"fmt"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/refresher"
)

// fakeStart is the monotonic reading of a new clock.Fake.
const fakeStart = time.Hour

// daemon is one simulated ossd: the real cache and refresher on a fake
// clock of its own.
type daemon struct {
	id      int
	gen     int           // how many times it has started
	clk     *clock.Fake   // a new one per start: a new process reads a new monotonic clock
	started time.Duration // simulated time at which clk read fakeStart
	cache   *cache.Cache
	ref     *refresher.Refresher
	entries []*cache.Entry
	truth   []truth // by role: the account's expiry of the token last served

	dueAt   time.Duration // simulated time RefreshDue next has work
	callAt  time.Duration // simulated time of its callers' next round
	readyAt time.Duration // when every role first had a token above the floor after the event; -1 before
	slot    int           // index in the loop's heap
}

// at returns the simulated time of the daemon's monotonic reading mono.
func (d *daemon) at(mono time.Duration) time.Duration { return d.started + mono - fakeStart }

// advance moves the daemon's clock to simulated time t.
func (d *daemon) advance(t time.Duration) {
	if dt := t - d.at(d.clk.Mono()); dt > 0 {
		d.clk.Advance(dt)
	}
}

// next is when the daemon next has work: a renewal or its callers.
func (d *daemon) next() time.Duration { return min(d.dueAt, d.callAt) }

// boot starts a new process for d at simulated time t: a fresh clock,
// cache and refresher, its roles not yet started.
func (s *sim) boot(d *daemon, t, startSpread time.Duration) {
	d.gen++
	d.clk = clock.NewFake(s.epoch.Add(t))
	d.started = t
	d.cache = cache.New(1) // configured roles are pinned; no on-demand sessions
	d.ref = refresher.New(refresher.Options{
		Fetcher: s.acct.fetcher(), Cache: d.cache, Clock: d.clk,
		MaxQPS: s.o.MaxQPS, Floor: s.o.Floor, HardMin: s.o.HardMin,
		OutageMargin: s.o.OutageMargin, Spread: s.o.Spread, StartSpread: startSpread,
		Seed: seed(s.o.Seed, d.id, d.gen),
		// Fetches answer at once here, so one at a time changes no timing
		// and keeps the run deterministic.
		Workers: 1,
	})
	d.entries = nil
	d.dueAt = t
}

// seed derives a refresher's jitter seed from the run's seed, the daemon
// and its start (splitmix64 of their mix), never 0.
func seed(run uint64, id, gen int) uint64 {
	z := run + uint64(id)*0x9e3779b97f4a7c15 + uint64(gen)*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31) | 1
}

// start pins the roles and schedules their first fetches, as the daemon's
// start-up does.
func (s *sim) start(d *daemon) {
	d.entries = d.ref.Start(s.params)
	d.truth = make([]truth, len(d.entries))
}

// ask is one round of d's callers at simulated time t: every role asked
// for once. It reports whether any answer made a renewal due.
func (s *sim) ask(d *daemon, t time.Duration) (due bool) {
	s.sink += prefetch(d.entries)
	for i, e := range d.entries {
		c, result, ok := d.ref.Peek(e)
		if !ok {
			s.st.requests++
			s.st.unserved++
			due = true
			continue
		}
		s.st.served(result, d.truth[i].left(s.acct, c, t), s.o.Floor, s.o.HardMin)
		due = due || result != "hit"
	}
	return due
}

// prefetch reads every cache line of the entries' states that a lookup
// reads, in one pass of independent loads, so that the memory latency of
// the states (scattered over a large heap) overlaps instead of adding up
// one entry after the other: each lookup then reads the clock under a
// mutex, which keeps the processor from running ahead to the next miss.
// This is the simulation's hottest loop.
// It returns a sum of what it read, for the caller to keep so that the
// compiler cannot drop the loads.
func prefetch(es []*cache.Entry) (sink time.Duration) {
	for _, e := range es {
		if st := e.State(); st != nil {
			sink += time.Duration(st.Creds().Expiration.Nanosecond()+st.FetchedAt().Nanosecond()) + st.Fetched + st.Deadline
		}
	}
	return sink
}

// truth is the account's expiry of the token a role was last served
// with, kept per role so that the account's table (a large one) is read
// only when the token changes.
type truth struct {
	id     string // AccessKeyID of the token
	expiry time.Duration
}

// left reports how long c has left at simulated time t by the account's
// expiry.
func (tr *truth) left(a *account, c ossd.Credentials, t time.Duration) time.Duration {
	if c.AccessKeyID != tr.id { // the same string is compared by its pointer alone
		tr.id, tr.expiry = c.AccessKeyID, a.expiry(c)
	}
	return tr.expiry - t
}

// ready reports whether every role of d has a token above the floor.
func (s *sim) ready(d *daemon) bool {
	now, mono := d.clk.Now(), d.clk.Mono()
	for _, e := range d.entries {
		if _, ok := e.Lookup(now, mono, s.o.Floor); !ok {
			return false
		}
	}
	return len(d.entries) > 0
}

// roles returns the configured roles every daemon has.
func roles(n int, duration time.Duration) []ossd.Params {
	ps := make([]ossd.Params, n)
	for i := range ps {
		name := fmt.Sprintf("r%03d", i)
		ps[i] = ossd.Params{RoleARN: "acs:ram::1234567890123456:role/" + name, SessionName: "ossd-" + name, Duration: duration}
	}
	return ps
}

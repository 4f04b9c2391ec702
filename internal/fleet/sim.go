package fleet

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"time"

	"github.com/ossd/ossd"
)

// simEpoch returns the wall time at simulated time 0.
func simEpoch() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

// sim is one run: the daemons, the account and the loop's state.
type sim struct {
	o       Options
	epoch   time.Time
	acct    *account
	params  []ossd.Params
	daemons []*daemon
	q       queue
	rng     *rand.Rand // callers' periods
	st      *stats
	// eventDone says the event has happened: readiness is measured from it.
	eventDone bool
	stuck     int64 // RefreshDue asked to be called again at once
	restored  int64 // kept tokens Restore installed at a restart
	refused   int64 // kept tokens Restore refused
	steps     int64
	sink      time.Duration // what prefetch read, kept so its loads stay
}

// Run simulates the fleet o describes and reports what it measured. It
// returns ctx's error if ctx ends first.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Warmup == 0 {
		o.Warmup = renewalInterval(o)
	}
	epoch := simEpoch()
	s := &sim{o: o, epoch: epoch, acct: newAccount(o.Limit, epoch), params: roles(o.Roles, o.Duration),
		rng: rand.New(rand.NewPCG(o.Seed, 0x5eed)), st: newStats(o.Run)}
	s.daemons = make([]*daemon, o.Hosts)
	for i := range s.daemons {
		d := &daemon{id: i, readyAt: -1, slot: i}
		s.boot(d, -o.Warmup, o.Warmup) // first fetches spread over the warm-up
		s.start(d)
		d.callAt = time.Duration(s.rng.Int64N(int64(o.CallerMax)))
		s.daemons[i] = d
	}
	s.q = queue(s.daemons[:len(s.daemons):len(s.daemons)])
	heap.Init(&s.q)
	measuring := false
	for {
		d := s.q[0]
		t := d.next()
		if !measuring && t >= 0 {
			// The warm-up is over: from now on the account's limit holds
			// and everything is counted.
			measuring = true
			s.acct.mu.Lock()
			s.acct.limited, s.acct.stats = true, s.st
			s.acct.mu.Unlock()
		}
		if !s.eventDone && t >= o.At {
			s.event(o.At)
			continue
		}
		if t >= o.Run {
			break
		}
		s.step(ctx, d, t)
		heap.Fix(&s.q, d.slot)
		if s.steps++; s.steps%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return s.result(), nil
}

// step lets d do what it has to at simulated time t: its callers' round,
// then renewals.
func (s *sim) step(ctx context.Context, d *daemon, t time.Duration) {
	s.acct.set(t)
	d.advance(t)
	if t >= d.callAt {
		if s.ask(d, t) {
			d.dueAt = t
		}
		d.callAt = t + s.o.CallerMin + time.Duration(s.rng.Int64N(int64(s.o.CallerMax-s.o.CallerMin)+1))
	}
	if t >= d.dueAt {
		next := d.at(d.ref.RefreshDue(ctx))
		if next <= t {
			// RefreshDue should never ask to be called again with nothing
			// done; count it, and move on rather than spin.
			s.stuck++
			next = t + time.Millisecond
		}
		d.dueAt = next
	}
	if s.eventDone && d.readyAt < 0 && s.ready(d) {
		d.readyAt = t
	}
}

// event makes every daemon go through the run's event at simulated time t.
func (s *sim) event(t time.Duration) {
	s.eventDone = true
	s.acct.set(t)
	for _, d := range s.daemons {
		d.advance(t)
		switch s.o.Event {
		case Restart:
			kept := keep(d)
			s.boot(d, t, s.o.StartSpread)
			s.restore(d, kept)
			s.start(d)
		case Reboot:
			s.boot(d, t, s.o.StartSpread)
			s.start(d)
		}
		d.dueAt = t
	}
	heap.Init(&s.q)
}

// queue is a min-heap of daemons by when they next have work.
type queue []*daemon

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].next() < q[j].next() }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].slot, q[j].slot = i, j
}
func (q *queue) Push(x any) { panic("fleet: the queue's daemons are fixed") }
func (q *queue) Pop() any   { panic("fleet: the queue's daemons are fixed") }

package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// Options configure one Run.
type Options struct {
	Target  Target
	Clients int           // concurrent clients, each on its own connection
	Window  time.Duration // how long to measure
	Warmup  time.Duration // how long to drive the target before measuring
	Clock   clock.Clock   // times every operation; nil = real
	// Rate, if positive, paces each client to this many operations per
	// second instead of back to back.
	Rate float64
	// Spread binds each TCP client to its own loopback source address
	// (127.1.x.y), so that a server limiting each client address sees N
	// clients.
	Spread bool
}

// Result is the outcome of one Run.
type Result struct {
	Target     string `json:"target"`
	Clients    int    `json:"clients"`
	Summary           // of the measured window
	FirstError string `json:"first_error,omitempty"`
}

// stuck is how long past its end a run may take before its connections
// time out.
const stuck = 10 * time.Second

// worker is one client's record of a run.
type worker struct {
	samples []time.Duration
	errors  int
	first   error
}

// Run connects o.Clients clients to o.Target, has each repeat the target's
// operation back to back for o.Warmup and then o.Window, and returns the
// latency summary of the operations that started within the window. A
// client whose connection fails reconnects; failures are counted, not
// fatal. Run fails only if the first connections cannot be made or ctx ends.
func Run(ctx context.Context, o Options) (Result, error) {
	clk := clock.Or(o.Clock)
	conns := make([]*Conn, o.Clients)
	for i := range conns {
		c, err := dialClient(ctx, o, i)
		if err != nil {
			closeAll(conns)
			return Result{}, err
		}
		conns[i] = c
	}
	// Bound every read and write, so that a server that stops answering
	// cannot hang the run.
	deadline := clk.Now().Add(o.Warmup + o.Window + 2*stuck)
	for _, c := range conns {
		c.c.SetDeadline(deadline)
	}
	// Every client makes its first request before the clock starts: the
	// first request on a connection costs the server more than the rest
	// (a TCP server may identify the peer), and on a busy machine it may
	// take longer than the whole window.
	conns = firstOps(ctx, o, conns, deadline)
	start := clk.Mono() + o.Warmup
	end := start + o.Window
	workers := make([]worker, o.Clients)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := driver{o: o, i: i, clk: clk, start: start, end: end, deadline: deadline}
			workers[i] = d.drive(ctx, conns[i])
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return collect(o, workers), nil
}

// driver is one client's loop.
type driver struct {
	o          Options
	i          int // client index
	clk        clock.Clock
	start, end time.Duration // the measured window, monotonic
	deadline   time.Time     // for every connection's I/O
}

// drive repeats the operation on c until the window ends, and closes c.
func (d driver) drive(ctx context.Context, c *Conn) worker {
	w := worker{samples: make([]time.Duration, 0, 1<<12)}
	defer func() { c.Close() }()
	next := d.clk.Mono()
	if d.o.Rate > 0 { // stagger the clients across one interval
		next += time.Duration(float64(time.Second) / d.o.Rate * float64(d.i) / float64(d.o.Clients))
	}
	for ctx.Err() == nil {
		next = d.pace(next)
		t0 := d.clk.Mono()
		if t0 >= d.end && len(w.samples)+w.errors > 0 {
			// Each client measures at least one operation, so that a
			// server that answers is never reported as doing nothing.
			break
		}
		err := d.o.Target.Op.Do(c)
		took := d.clk.Mono() - t0
		switch {
		case err == nil && t0 >= d.start:
			w.samples = append(w.samples, took)
		case err != nil && t0 >= d.start:
			w.errors++
			if w.first == nil {
				w.first = err
			}
		}
		if err != nil && !errors.Is(err, ErrStatus) && !errors.Is(err, errNotCredentials) {
			// The connection is in an unknown state: start a new one.
			c.Close()
			nc, derr := dialClient(ctx, d.o, d.i)
			if derr != nil {
				w.errors++
				return w
			}
			c = nc
			c.c.SetDeadline(d.deadline)
		}
	}
	return w
}

// firstOps has every client do the target's operation once, unmeasured,
// and returns the connections to go on with: a client whose first
// operation broke its connection gets a new one.
func firstOps(ctx context.Context, o Options, conns []*Conn, deadline time.Time) []*Conn {
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := o.Target.Op.Do(conns[i])
			if err == nil || errors.Is(err, ErrStatus) || errors.Is(err, errNotCredentials) {
				return
			}
			conns[i].Close()
			if nc, derr := dialClient(ctx, o, i); derr == nil {
				nc.c.SetDeadline(deadline)
				conns[i] = nc
			}
			// On a failed redial the closed connection stays: the measured
			// loop's first operation fails, is counted, and redials.
		}()
	}
	wg.Wait()
	return conns
}

// pace waits until next when the client is paced, and returns the time of
// the operation after. A client that falls behind goes on at once.
func (d driver) pace(next time.Duration) time.Duration {
	if d.o.Rate <= 0 {
		return next
	}
	if wait := next - d.clk.Mono(); wait > 0 {
		t := d.clk.NewTimer(wait)
		<-t.C()
	}
	return next + time.Duration(float64(time.Second)/d.o.Rate)
}

// dialClient connects client i.
func dialClient(ctx context.Context, o Options, i int) (*Conn, error) {
	var local net.Addr
	if o.Spread && o.Target.Network == "tcp" {
		local = &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(1+i%250))}
	}
	return dial(ctx, o.Target.Network, o.Target.Addr, local)
}

func collect(o Options, ws []worker) Result {
	n, errs := 0, 0
	for _, w := range ws {
		n += len(w.samples)
		errs += w.errors
	}
	all := make([]time.Duration, 0, n)
	var first error
	for _, w := range ws {
		all = append(all, w.samples...)
		if first == nil {
			first = w.first
		}
	}
	r := Result{Target: o.Target.Name, Clients: o.Clients, Summary: Summarize(all, errs, o.Window)}
	if first != nil {
		r.FirstError = fmt.Sprint(first)
	}
	return r
}

func closeAll(cs []*Conn) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

package ratelimit_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
)

func uid(n uint32) peer.Identity {
	return peer.Identity{Known: true, UID: n, PID: int32(n), Via: "socket"}
}

// allowed counts how many of n requests by id pass.
func allowed(l *ratelimit.Limiter, id peer.Identity, n int) int {
	ok := 0
	for range n {
		if l.Allow(id) {
			ok++
		}
	}
	return ok
}

func TestPerUID(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var refused []peer.Identity
	l := ratelimit.New(ratelimit.Options{Rate: 10, Burst: 20, Clock: clk, OnLimited: func(id peer.Identity) { refused = append(refused, id) }})
	if got := allowed(l, uid(4343), 100); got != 20 {
		t.Errorf("flooding uid got %d of 100, want the burst of 20", got)
	}
	if len(refused) != 80 || refused[0].UID != 4343 {
		t.Errorf("OnLimited saw %d refusals (first %+v), want 80 of uid 4343", len(refused), refused[0])
	}
	// Another user, and the same user from another process or listener.
	if got := allowed(l, uid(4242), 20); got != 20 {
		t.Errorf("another uid got %d of 20 while the first floods", got)
	}
	other := uid(4343)
	other.PID, other.Via = 99, "tcp 127.0.0.1:8100"
	if l.Allow(other) {
		t.Error("the flooding uid got a request through from another process and listener")
	}
	clk.Advance(time.Second)
	if got := allowed(l, uid(4343), 100); got != 10 {
		t.Errorf("after 1 s the flooding uid got %d, want the rate of 10", got)
	}
	// The wall clock stepping back an hour neither starves nor frees anyone.
	clk.StepWall(-time.Hour)
	if got := allowed(l, uid(4242), 10); got != 10 {
		t.Errorf("after a wall step back uid 4242 got %d of 10", got)
	}
	if l.Allow(uid(4343)) {
		t.Error("a wall step back refilled the flooding uid")
	}
}

// TestUnidentifiedShareOneBucket: callers peer lookup could not identify are
// one caller, however many addresses or processes they come from.
func TestUnidentifiedShareOneBucket(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 5, Clock: clock.NewFake(time.Unix(0, 0))})
	ok := 0
	for i := range 50 {
		if l.Allow(peer.Identity{Via: "tcp 127.0.0." + string(rune('1'+i%9)) + ":8100"}) {
			ok++
		}
	}
	if ok != 5 {
		t.Errorf("unidentified callers got %d of 50 through, want one burst of 5", ok)
	}
	if !l.Allow(uid(0)) {
		t.Error("uid 0 shares the unidentified bucket")
	}
}

func TestDefaults(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{Clock: clock.NewFake(time.Unix(0, 0))})
	if got := allowed(l, uid(1), 3*ratelimit.DefaultBurst); got != ratelimit.DefaultBurst {
		t.Errorf("default burst: %d allowed, want %d", got, ratelimit.DefaultBurst)
	}
}

// TestBounded: more users than MaxCallers never grow the limiter beyond
// it; the least recently used bucket is dropped and starts again full.
func TestBounded(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 1, Clock: clock.NewFake(time.Unix(0, 0))})
	l.Allow(uid(1))
	if l.Allow(uid(1)) {
		t.Fatal("uid 1 got two requests through a burst of 1")
	}
	for n := range uint32(ratelimit.MaxCallers) {
		l.Allow(uid(1000 + n))
	}
	if !l.Allow(uid(1)) {
		t.Error("uid 1's bucket was kept past MaxCallers other users")
	}
}

func TestConcurrent(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 100, Clock: clock.NewFake(time.Unix(0, 0))})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { ok.Add(int64(allowed(l, uid(7), 100))) })
	}
	wg.Wait()
	if ok.Load() != 100 {
		t.Errorf("%d requests through from 8 goroutines, want exactly the burst of 100", ok.Load())
	}
}

func BenchmarkAllow(b *testing.B) {
	l := ratelimit.New(ratelimit.Options{Rate: 1e9, Burst: 1e9})
	id := uid(1000)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(id)
	}
}

package cache_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

var (
	now  = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	mono = 5 * time.Hour
)

func params(i int) ossd.Params {
	return ossd.Params{RoleARN: fmt.Sprintf("acs:ram::1:role/r%d", i), SessionName: "s", Duration: time.Hour}
}

func creds(exp time.Time) ossd.Credentials {
	return ossd.Credentials{AccessKeyID: "STS.a", AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"), Expiration: exp, LastUpdated: now}
}

func TestKeyCoversEverythingThatChangesTheToken(t *testing.T) {
	base := params(1)
	variants := []func(*ossd.Params){
		func(p *ossd.Params) { p.RoleARN += "x" },
		func(p *ossd.Params) { p.SessionName += "x" },
		func(p *ossd.Params) { p.Policy = `{"Version":"1"}` },
		func(p *ossd.Params) { p.Duration *= 2 },
		func(p *ossd.Params) { p.ExternalID = "ext" },
	}
	for i, change := range variants {
		p := base
		change(&p)
		if p.Key() == base.Key() {
			t.Errorf("variant %d: key unchanged", i)
		}
	}
	if base.Key() != params(1).Key() {
		t.Error("equal params give different keys")
	}
}

func TestLookupHonoursMinimum(t *testing.T) {
	c := cache.New(10)
	e, existed := c.GetOrAdd(params(1))
	if existed {
		t.Fatal("new entry reported as existing")
	}
	if _, ok := e.Lookup(now, mono, 0); ok {
		t.Error("Lookup on an empty entry succeeded")
	}
	e.SetState(fetched(20 * time.Minute))
	if _, ok := e.Lookup(now, mono, 16*time.Minute); !ok {
		t.Error("20m left, floor 16m: want hit")
	}
	if _, ok := e.Lookup(now.Add(5*time.Minute), mono+5*time.Minute, 16*time.Minute); ok {
		t.Error("15m left, floor 16m: want miss")
	}
	if _, ok := e.Lookup(now.Add(20*time.Minute), mono+20*time.Minute, 0); ok {
		t.Error("expired: want miss")
	}
}

// fetched returns the state of credentials fetched at (now, mono) with
// lifetime life.
func fetched(life time.Duration) *cache.State {
	s := &cache.State{Fetched: mono}
	s.SetCreds(creds(now.Add(life)), now)
	return s
}

// TestRemainingSurvivesClockSteps: after the wall clock steps back the
// monotonic reading governs; after a suspend (the monotonic clock stopped,
// the wall clock did not) the wall reading governs.
func TestRemainingSurvivesClockSteps(t *testing.T) {
	s := fetched(time.Hour)
	tests := []struct {
		name string
		now  time.Time
		mono time.Duration
		want time.Duration
	}{
		{"no time passed", now, mono, time.Hour},
		{"40m on both clocks", now.Add(40 * time.Minute), mono + 40*time.Minute, 20 * time.Minute},
		{"40m passed, wall stepped back 2h", now.Add(-80 * time.Minute), mono + 40*time.Minute, 20 * time.Minute},
		{"wall stepped forward 30m", now.Add(30 * time.Minute), mono, 30 * time.Minute},
		{"suspended 2h", now.Add(2 * time.Hour), mono, -time.Hour},
	}
	for _, tc := range tests {
		if got := s.Remaining(tc.now, tc.mono); got != tc.want {
			t.Errorf("%s: Remaining = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOnDemandIsBounded(t *testing.T) {
	c := cache.New(3)
	c.Pin(params(0))
	for i := 1; i <= 10; i++ {
		c.GetOrAdd(params(i))
	}
	pinned, onDemand := c.Len()
	if pinned != 1 || onDemand != 3 {
		t.Errorf("Len = %d pinned, %d on demand; want 1, 3", pinned, onDemand)
	}
	if _, ok := c.Get(params(1).Key()); ok {
		t.Error("least recently used entry not evicted")
	}
	if _, ok := c.Get(params(10).Key()); !ok {
		t.Error("newest entry evicted")
	}
	if _, ok := c.Get(params(0).Key()); !ok {
		t.Error("pinned entry evicted")
	}
}

func TestPinPromotesAndUnpinForgets(t *testing.T) {
	c := cache.New(3)
	e, _ := c.GetOrAdd(params(1))
	e.SetState(fetched(time.Hour))
	if p := c.Pin(params(1)); p != e || !p.Pinned() {
		t.Error("Pin did not promote the on-demand entry")
	}
	if _, n := c.Len(); n != 0 {
		t.Errorf("on-demand after promotion = %d, want 0", n)
	}
	c.Unpin(params(1).Key())
	if _, ok := c.Get(params(1).Key()); ok {
		t.Error("entry still cached after Unpin")
	}
}

func TestConcurrentGetOrAddSharesOneEntry(t *testing.T) {
	c := cache.New(10)
	var wg sync.WaitGroup
	got := make([]*cache.Entry, 100)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = c.GetOrAdd(params(1)) }()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatal("two entries for one key")
		}
	}
}

// BenchmarkLookup is the cache hit path; BenchmarkMapLookup is a bare map
// under a read lock returning the same value, the practical limit.
func BenchmarkLookup(b *testing.B) {
	c := cache.New(10)
	e := c.Pin(params(1))
	e.SetState(fetched(time.Hour))
	k := params(1).Key()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e, _ := c.Get(k)
			if _, ok := e.Lookup(now, mono, 16*time.Minute); !ok {
				b.Error("miss")
			}
			e.Touch(mono)
		}
	})
}

func BenchmarkMapLookup(b *testing.B) {
	var mu sync.RWMutex
	m := map[ossd.Key]ossd.Credentials{params(1).Key(): creds(now.Add(time.Hour))}
	k := params(1).Key()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.RLock()
			c, ok := m[k]
			mu.RUnlock()
			if !ok || !c.Valid(now, 16*time.Minute) {
				b.Error("miss")
			}
		}
	})
}

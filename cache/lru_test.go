package cache_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

// TestLRUEvictsLeastRecentlyUsed: a Get makes an entry recent, so the one
// evicted is the one used longest ago, and an evicted entry is gone and off
// the schedule.
func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := cache.New(3)
	e1, _ := c.GetOrAdd(params(1))
	c.GetOrAdd(params(2))
	c.GetOrAdd(params(3))
	c.Schedule(e1, time.Hour)
	c.Get(params(1).Key()) // 2 is now the least recently used
	c.GetOrAdd(params(4))
	if _, ok := c.Get(params(2).Key()); ok {
		t.Error("2 survived; want it evicted as least recently used")
	}
	for _, i := range []int{1, 3, 4} {
		if _, ok := c.Get(params(i).Key()); !ok {
			t.Errorf("%d evicted", i)
		}
	}
	e5, _ := c.GetOrAdd(params(5)) // evicts 1, used before 3 and 4 just now
	if !e1.Gone() || c.Scheduled() != 0 {
		t.Errorf("evicted entry: gone %v, %d scheduled; want gone and off the schedule", e1.Gone(), c.Scheduled())
	}
	if e5.Gone() {
		t.Error("the new entry is marked gone")
	}
}

// TestLRUWhenHashesCollide gives every key the same hash: lookups,
// eviction, removal and promotion must still find exactly the right entry.
func TestLRUWhenHashesCollide(t *testing.T) {
	for name, hash := range map[string]func(ossd.Key) uint64{
		"all collide":   func(ossd.Key) uint64 { return 42 },
		"pairs collide": func(k ossd.Key) uint64 { return uint64(len(k.RoleARN) / 2) },
	} {
		t.Run(name, func(t *testing.T) {
			c := cache.New(4)
			cache.SetHash(c, hash)
			var es []*cache.Entry
			for i := range 4 {
				e, existed := c.GetOrAdd(params(i))
				if existed {
					t.Fatalf("GetOrAdd(%d) found an entry", i)
				}
				es = append(es, e)
			}
			for i, want := range es {
				if got, ok := c.Get(params(i).Key()); !ok || got != want {
					t.Errorf("Get(%d) = %p, %v; want %p", i, got, ok, want)
				}
			}
			c.Remove(es[0]) // the one holding the index slot, under "all collide"
			if _, ok := c.Get(params(0).Key()); ok || !es[0].Gone() {
				t.Error("removed entry still found")
			}
			for i := 1; i < 4; i++ {
				if got, _ := c.Get(params(i).Key()); got != es[i] {
					t.Errorf("after removing 0, Get(%d) = %p, want %p", i, got, es[i])
				}
			}
			c.GetOrAdd(params(4))
			c.GetOrAdd(params(5)) // evicts 1, the least recently used
			if _, ok := c.Get(params(1).Key()); ok || !es[1].Gone() {
				t.Error("1 not evicted")
			}
			if p := c.Pin(params(2)); p != es[2] {
				t.Error("Pin did not promote the colliding entry")
			}
			if pinned, onDemand := c.Len(); pinned != 1 || onDemand != 3 {
				t.Errorf("Len = %d, %d; want 1, 3", pinned, onDemand)
			}
		})
	}
}

// TestLRUAgainstModel runs random operations against the cache and a plain
// slice model of an LRU, with colliding hashes, and compares what each
// holds after every step.
func TestLRUAgainstModel(t *testing.T) {
	const size, keys = 8, 20
	rng := rand.New(rand.NewPCG(1, 2))
	c := cache.New(size)
	cache.SetHash(c, func(k ossd.Key) uint64 { return uint64(len(k.RoleARN) % 3) })
	var model []int // most recent first
	touch := func(i int) {
		model = slices.DeleteFunc(model, func(j int) bool { return j == i })
		model = append([]int{i}, model...)
		if len(model) > size {
			model = model[:size]
		}
	}
	for step := range 5000 {
		i := rng.IntN(keys)
		switch rng.IntN(3) {
		case 0:
			_, existed := c.GetOrAdd(params(i))
			if existed != slices.Contains(model, i) {
				t.Fatalf("step %d: GetOrAdd(%d) existed = %v, model disagrees", step, i, existed)
			}
			touch(i)
		case 1:
			_, ok := c.Get(params(i).Key())
			if ok != slices.Contains(model, i) {
				t.Fatalf("step %d: Get(%d) = %v, model disagrees", step, i, ok)
			}
			if ok {
				touch(i)
			}
		case 2:
			if e, ok := c.Get(params(i).Key()); ok {
				c.Remove(e)
				model = slices.DeleteFunc(model, func(j int) bool { return j == i })
			}
		}
		if _, n := c.Len(); n != len(model) {
			t.Fatalf("step %d: %d on demand, model has %d", step, n, len(model))
		}
	}
}

package cache

import (
	"sync"

	"github.com/ossd/ossd"
)

// Cache maps keys to entries. Create it with New.
type Cache struct {
	mu     sync.RWMutex // guards pinned; held around creating an entry
	pinned map[ossd.Key]*Entry
	lmu    sync.Mutex // guards lru; taken after mu, never before
	lru    *sessions
	sched  schedule // when each entry is next due; see Schedule
}

// New returns a cache whose on-demand part holds at most maxSessions
// entries; the least recently used is evicted first.
func New(maxSessions int) *Cache {
	return &Cache{pinned: make(map[ossd.Key]*Entry), lru: newSessions(max(maxSessions, 1))}
}

// lruGet looks k up among the on-demand entries and marks it used.
func (c *Cache) lruGet(k ossd.Key) (*Entry, bool) {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.lru.get(k)
}

// lruPeek looks k up among the on-demand entries.
func (c *Cache) lruPeek(k ossd.Key) (*Entry, bool) {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.lru.peek(k)
}

// lruRemove takes e out of the on-demand entries; it reports whether it
// was there.
func (c *Cache) lruRemove(e *Entry) bool {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.lru.remove(e)
}

// forget marks e as no longer in the cache and takes it off the schedule.
func (c *Cache) forget(e *Entry) {
	e.gone.Store(true)
	c.Unschedule(e)
}

// Get returns the entry for k, pinned or on demand, and marks an on-demand
// entry as recently used.
func (c *Cache) Get(k ossd.Key) (*Entry, bool) {
	c.mu.RLock()
	e, ok := c.pinned[k]
	c.mu.RUnlock()
	if ok {
		return e, true
	}
	return c.lruGet(k)
}

// Pin returns the pinned entry for p, creating it if needed. An on-demand
// entry for the same key is promoted, keeping its state.
func (c *Cache) Pin(p ossd.Params) *Entry {
	k := p.Key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.pinned[k]; ok {
		return e
	}
	e, ok := c.lruPeek(k)
	if ok {
		e.pinned.Store(true)
		c.lruRemove(e) // keeping its state and schedule
	} else {
		e = newEntry(p, k)
		e.pinned.Store(true)
	}
	c.pinned[k] = e
	return e
}

// Unpin forgets the pinned entry for k and its token.
func (c *Cache) Unpin(k ossd.Key) {
	c.mu.Lock()
	e, ok := c.pinned[k]
	delete(c.pinned, k)
	c.mu.Unlock()
	if ok {
		c.forget(e)
	}
}

// Remove drops the on-demand entry e, if it is still the cache's entry for
// its key. Pinned entries stay: Unpin them.
func (c *Cache) Remove(e *Entry) {
	if e.pinned.Load() {
		return
	}
	c.mu.Lock() // serialises with GetOrAdd, which could otherwise re-add e's key meanwhile
	defer c.mu.Unlock()
	if c.lruRemove(e) {
		c.forget(e)
	}
}

// GetOrAdd returns the entry for p, adding an on-demand entry if there is
// none. It reports whether the entry already existed.
func (c *Cache) GetOrAdd(p ossd.Params) (*Entry, bool) {
	k := p.Key()
	if e, ok := c.Get(k); ok {
		return e, true
	}
	c.mu.Lock() // serialises creation so two callers share one entry
	defer c.mu.Unlock()
	if e, ok := c.pinned[k]; ok {
		return e, true
	}
	if e, ok := c.lruGet(k); ok {
		return e, true
	}
	e := newEntry(p, k)
	c.lmu.Lock()
	evicted := c.lru.add(e)
	c.lmu.Unlock()
	if evicted != nil {
		c.forget(evicted)
	}
	return e, false
}

// Entries returns every entry, pinned ones first, in no particular order.
// It copies every entry: it is for status and persistence, never for a path
// that runs per request or per fetch (the renewal loop uses the schedule).
func (c *Cache) Entries() []*Entry {
	c.mu.RLock()
	out := make([]*Entry, 0, len(c.pinned))
	for _, e := range c.pinned {
		out = append(out, e)
	}
	c.mu.RUnlock()
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return append(out, c.lru.values()...)
}

// Len reports the number of pinned and on-demand entries.
func (c *Cache) Len() (pinned, onDemand int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return len(c.pinned), c.lru.n
}

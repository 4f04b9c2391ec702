package cache

import (
	"sync"
	"time"
)

// schedule orders entries by when they are next due (a monotonic clock
// reading): a binary min-heap whose entries know their own position, so
// that scheduling, rescheduling and removing an entry are O(log n) and
// finding what is due costs nothing for what is not. It has its own lock:
// a lookup of an entry never takes it.
type schedule struct {
	mu   sync.Mutex // guards heap and every entry's due and slot
	heap []*Entry
}

// Schedule makes e due at monotonic time at, replacing any earlier time. An
// entry no longer in the cache (evicted, unpinned or removed) is not
// scheduled: nothing could look it up again.
func (c *Cache) Schedule(e *Entry, at time.Duration) {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.gone.Load() {
		return
	}
	e.due = at
	if e.slot < 0 {
		e.slot = int32(len(s.heap))
		s.heap = append(s.heap, e)
		s.up(int(e.slot))
		return
	}
	if !s.down(int(e.slot)) {
		s.up(int(e.slot))
	}
}

// Unschedule takes e off the schedule.
func (c *Cache) Unschedule(e *Entry) {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(e)
}

// Due reports when e is next due, and whether it is scheduled at all.
func (c *Cache) Due(e *Entry) (time.Duration, bool) {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.due, e.slot >= 0
}

// NextDue reports the earliest due time, and false when nothing is
// scheduled.
func (c *Cache) NextDue() (time.Duration, bool) {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heap) == 0 {
		return 0, false
	}
	return s.heap[0].due, true
}

// PopDue takes up to n entries due at or before now off the schedule,
// earliest first, and appends them to dst.
func (c *Cache) PopDue(now time.Duration, n int, dst []*Entry) []*Entry {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	for ; n > 0 && len(s.heap) > 0 && s.heap[0].due <= now; n-- {
		e := s.heap[0]
		s.remove(e)
		dst = append(dst, e)
	}
	return dst
}

// Scheduled reports how many entries are on the schedule.
func (c *Cache) Scheduled() int {
	s := &c.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.heap)
}

// remove takes e off the heap if it is on it.
func (s *schedule) remove(e *Entry) {
	i := int(e.slot)
	if i < 0 {
		return
	}
	last := len(s.heap) - 1
	s.swap(i, last)
	s.heap[last] = nil
	s.heap = s.heap[:last]
	e.slot = -1
	if i < last && !s.down(i) {
		s.up(i)
	}
}

func (s *schedule) less(i, j int) bool { return s.heap[i].due < s.heap[j].due }

func (s *schedule) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.heap[i].slot, s.heap[j].slot = int32(i), int32(j)
}

func (s *schedule) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !s.less(j, i) {
			return
		}
		s.swap(i, j)
		j = i
	}
}

// down moves the entry at i down the heap and reports whether it moved.
func (s *schedule) down(i int) bool {
	start, n := i, len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && s.less(r, l) {
			j = r
		}
		if !s.less(j, i) {
			break
		}
		s.swap(i, j)
		i = j
	}
	return i > start
}

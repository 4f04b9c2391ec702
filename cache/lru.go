package cache

import (
	"hash/maphash"

	"github.com/ossd/ossd"
)

// sessions is the bounded LRU of on-demand entries. It is intrusive: an
// entry carries its own list links, and the index maps a 64-bit hash of
// the key to the entry, so a session's key is held once, in its entry,
// instead of again in a list element and a map key (that was a third of a
// session's memory besides its token). Two keys whose hashes collide are
// both kept: the second goes to overflow, which is empty in practice.
//
// Not safe for concurrent use; the cache guards it with its own mutex.
type sessions struct {
	max      int
	hash     func(ossd.Key) uint64
	idx      map[uint64]*Entry
	overflow map[ossd.Key]*Entry // keys whose hash another key holds in idx
	head     *Entry              // most recently used; the list runs through Entry.prev and Entry.next
	tail     *Entry
	n        int
}

func newSessions(max int) *sessions {
	seed := maphash.MakeSeed() // per cache: no one can choose keys that collide
	return &sessions{
		max:      max,
		hash:     func(k ossd.Key) uint64 { return maphash.Comparable(seed, k) },
		idx:      make(map[uint64]*Entry),
		overflow: make(map[ossd.Key]*Entry),
	}
}

// peek returns the entry for k without marking it used.
func (s *sessions) peek(k ossd.Key) (*Entry, bool) {
	if e := s.idx[s.hash(k)]; e != nil && e.Key == k {
		return e, true
	}
	if len(s.overflow) == 0 {
		return nil, false
	}
	e, ok := s.overflow[k]
	return e, ok
}

// get returns the entry for k and marks it most recently used.
func (s *sessions) get(k ossd.Key) (*Entry, bool) {
	e, ok := s.peek(k)
	if ok && s.head != e {
		s.unlink(e)
		s.pushFront(e)
	}
	return e, ok
}

// add adds e, whose key must not be present, as the most recently used,
// and returns the entry it evicted to stay within max, or nil.
func (s *sessions) add(e *Entry) (evicted *Entry) {
	h := s.hash(e.Key)
	if _, taken := s.idx[h]; taken {
		s.overflow[e.Key] = e
	} else {
		s.idx[h] = e
	}
	s.pushFront(e)
	s.n++
	if s.n <= s.max {
		return nil
	}
	evicted = s.tail
	s.remove(evicted)
	return evicted
}

// remove takes e out; it reports whether e was there.
func (s *sessions) remove(e *Entry) bool {
	h := s.hash(e.Key)
	switch {
	case s.idx[h] == e:
		delete(s.idx, h)
	case s.overflow[e.Key] == e:
		delete(s.overflow, e.Key)
	default:
		return false
	}
	s.unlink(e)
	s.n--
	return true
}

// values returns every entry, most recently used first.
func (s *sessions) values() []*Entry {
	out := make([]*Entry, 0, s.n)
	for e := s.head; e != nil; e = e.next {
		out = append(out, e)
	}
	return out
}

func (s *sessions) pushFront(e *Entry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	} else {
		s.tail = e
	}
	s.head = e
}

func (s *sessions) unlink(e *Entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

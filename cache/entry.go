package cache

import (
	"sync/atomic"
	"time"

	"github.com/ossd/ossd"
)

// Entry is one STS session: its parameters and its current state.
//
// The parameters are kept as the Key plus what the Key holds only as a
// digest, not as a Key and a Params side by side: at 100,000 sessions
// every word an entry carries is 0.8 MB.
type Entry struct {
	Key    ossd.Key
	policy string       // Params.Policy; the Key has its digest
	via    *ossd.Params // Params.Via; the Key has its digest

	pinned atomic.Bool
	gone   atomic.Bool // no longer in the cache: evicted, unpinned or removed
	parked atomic.Bool // left unscheduled until a caller uses it; see Park
	// slot is the entry's index in the schedule's heap, -1 when not on it;
	// guarded by the cache's schedule lock. It sits beside the three
	// 4-byte flags, which it pads to 8: elsewhere it would take 8 bytes of
	// its own and the entry 184, in the 192-byte size class, not 176.
	slot       int32
	state      atomic.Pointer[State]
	lastAccess atomic.Int64 // monotonic time of the last Touch
	served     atomic.Int64 // credentials handed out

	due time.Duration // monotonic; guarded by the cache's schedule lock

	prev, next *Entry // the on-demand LRU's list (lru.go); guarded by the cache's lmu
}

// State is an immutable snapshot of an entry. A new snapshot replaces the
// old one on every fetch attempt; build it, then [Entry.SetState] it.
//
// Scheduling fields are monotonic clock readings (clock.Clock.Mono), so a
// step of the wall clock neither delays nor hurries renewal.
//
// A cached session keeps one State as long as it lives, so it is kept
// small: the credentials are packed (ossd.Packed) and rebuilt by Creds
// without allocating. It takes 128 bytes, against 208 with an
// ossd.Credentials and a time.Time in it.
type State struct {
	creds       ossd.Packed   // the newest valid credentials; zero if none yet
	fetchedAt   unixNano      // wall clock when creds were fetched
	Fetched     time.Duration // monotonic clock when Creds were fetched
	RefreshAt   time.Duration // monotonic: when to renew Creds ahead of expiry
	LastAttempt time.Duration // monotonic: the last fetch attempt
	Err         error         // the last fetch error; nil after a success
	Failures    int           // consecutive failures
	RetryAt     time.Duration // monotonic: earliest next attempt after a failure
	// Deadline is the monotonic time by which Creds have lived the whole
	// duration asked for, counted from when the request left: no reading
	// of any clock makes them last longer. Zero means no such bound.
	Deadline time.Duration
}

// unixNano is a wall-clock reading; 0 means none.
type unixNano int64

// SetCreds records c, fetched at wall time fetchedAt, in a State not yet
// published.
func (s *State) SetCreds(c ossd.Credentials, fetchedAt time.Time) {
	s.creds, s.fetchedAt = c.Pack(), 0
	if !fetchedAt.IsZero() {
		s.fetchedAt = unixNano(fetchedAt.UnixNano())
	}
}

// KeepCreds carries old's credentials over into a State not yet published
// (a failed attempt keeps serving what the last success fetched).
func (s *State) KeepCreds(old *State) { s.creds, s.fetchedAt = old.creds, old.fetchedAt }

// Creds returns the newest valid credentials, zero if none yet.
func (s *State) Creds() ossd.Credentials { return s.creds.Credentials() }

// FetchedAt returns the wall clock when Creds were fetched, zero if never.
func (s *State) FetchedAt() time.Time {
	if s.fetchedAt == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s.fetchedAt)).UTC()
}

// Remaining reports how long Creds stay valid, by the most pessimistic of
// three readings: the wall clock against Expiration (right after a suspend,
// during which the monotonic clock stops), the lifetime seen at fetch minus
// the monotonic time since (right after the wall clock steps back), and the
// Deadline (when STS's clock runs ahead of ours, which makes Expiration
// look later than it is).
func (s *State) Remaining(now time.Time, mono time.Duration) time.Duration {
	exp := s.creds.Expiration()
	byWall := exp.Sub(now)
	byMono := exp.Sub(s.FetchedAt()) - (mono - s.Fetched)
	left := min(byWall, byMono)
	if s.Deadline != 0 {
		left = min(left, s.Deadline-mono)
	}
	return left
}

// newEntry returns the entry for p, whose key is k.
func newEntry(p ossd.Params, k ossd.Key) *Entry {
	return &Entry{Key: k, policy: p.Policy, via: p.Via, slot: -1}
}

// Params returns the AssumeRole parameters of the entry's session.
func (e *Entry) Params() ossd.Params {
	k := &e.Key
	return ossd.Params{RoleARN: k.RoleARN, SessionName: k.SessionName, Policy: e.policy, Duration: k.Duration, ExternalID: k.ExternalID, Via: e.via}
}

// Pinned reports whether the entry belongs to a configured role.
func (e *Entry) Pinned() bool { return e.pinned.Load() }

// State returns the current snapshot, or nil before the first attempt.
func (e *Entry) State() *State { return e.state.Load() }

// SetState publishes s.
func (e *Entry) SetState(s *State) { e.state.Store(s) }

// Lookup returns the entry's credentials if they have more than least left
// at wall time now and monotonic time mono (see [State.Remaining]).
func (e *Entry) Lookup(now time.Time, mono, least time.Duration) (ossd.Credentials, bool) {
	s := e.state.Load()
	if s == nil {
		return ossd.Credentials{}, false
	}
	if c := s.Creds(); c.Valid(now, 0) && s.Remaining(now, mono) > least {
		return c, true
	}
	return ossd.Credentials{}, false
}

// Touch records that a caller was served at monotonic time mono. It
// reports whether the entry was parked (see Park), which it no longer is:
// the caller should schedule it again.
func (e *Entry) Touch(mono time.Duration) (unparked bool) {
	e.lastAccess.Store(int64(mono))
	e.served.Add(1)
	return e.parked.Load() && e.Unpark()
}

// Park marks an entry that is left off the schedule until a caller uses it
// again: an on-demand session nobody asked for since its last fetch.
func (e *Entry) Park() { e.parked.Store(true) }

// Unpark reports whether the entry was parked, and no longer is.
func (e *Entry) Unpark() bool { return e.parked.CompareAndSwap(true, false) }

// Parked reports whether the entry is parked.
func (e *Entry) Parked() bool { return e.parked.Load() }

// Gone reports whether the entry has left the cache.
func (e *Entry) Gone() bool { return e.gone.Load() }

// LastAccess returns the monotonic time a caller was last served, or 0.
func (e *Entry) LastAccess() time.Duration { return time.Duration(e.lastAccess.Load()) }

// Served reports how many times credentials were handed out.
func (e *Entry) Served() int64 { return e.served.Load() }

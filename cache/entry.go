package cache

import (
	"sync/atomic"
	"time"

	"github.com/ossd/ossd"
)

// Entry is one STS session: its parameters and its current state.
type Entry struct {
	Key    ossd.Key
	Params ossd.Params

	pinned     atomic.Bool
	state      atomic.Pointer[State]
	lastAccess atomic.Int64 // monotonic time of the last Touch
	served     atomic.Int64 // credentials handed out
	renewing   atomic.Bool  // a background renewal is under way
}

// State is an immutable snapshot of an entry. A new snapshot replaces the
// old one on every fetch attempt.
//
// Scheduling fields are monotonic clock readings (clock.Clock.Mono), so a
// step of the wall clock neither delays nor hurries renewal.
type State struct {
	Creds       ossd.Credentials // the newest valid credentials; zero if none yet
	FetchedAt   time.Time        // wall clock when Creds were fetched, for display
	Fetched     time.Duration    // monotonic clock when Creds were fetched
	RefreshAt   time.Duration    // monotonic: when to renew Creds ahead of expiry
	LastAttempt time.Duration    // monotonic: the last fetch attempt
	Err         error            // the last fetch error; nil after a success
	Failures    int              // consecutive failures
	RetryAt     time.Duration    // monotonic: earliest next attempt after a failure
}

// Remaining reports how long Creds stay valid, by the more pessimistic of
// two readings: the wall clock against Expiration (right after a suspend,
// during which the monotonic clock stops) and the lifetime seen at fetch
// minus the monotonic time since (right after the wall clock steps back).
func (s *State) Remaining(now time.Time, mono time.Duration) time.Duration {
	byWall := s.Creds.Expiration.Sub(now)
	byMono := s.Creds.Expiration.Sub(s.FetchedAt) - (mono - s.Fetched)
	return min(byWall, byMono)
}

func newEntry(p ossd.Params) *Entry { return &Entry{Key: p.Key(), Params: p} }

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
	if s == nil || !s.Creds.Valid(now, 0) || s.Remaining(now, mono) <= least {
		return ossd.Credentials{}, false
	}
	return s.Creds, true
}

// Touch records that a caller was served at monotonic time mono.
func (e *Entry) Touch(mono time.Duration) {
	e.lastAccess.Store(int64(mono))
	e.served.Add(1)
}

// LastAccess returns the monotonic time a caller was last served, or 0.
func (e *Entry) LastAccess() time.Duration { return time.Duration(e.lastAccess.Load()) }

// Served reports how many times credentials were handed out.
func (e *Entry) Served() int64 { return e.served.Load() }

// StartRenewal reports whether the caller may start a background renewal;
// it returns false while another one is under way. Call EndRenewal after.
func (e *Entry) StartRenewal() bool { return e.renewing.CompareAndSwap(false, true) }

// EndRenewal marks the background renewal as finished.
func (e *Entry) EndRenewal() { e.renewing.Store(false) }

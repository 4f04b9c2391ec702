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
	lastAccess atomic.Int64 // unix nanoseconds of the last Touch
	served     atomic.Int64 // credentials handed out
	renewing   atomic.Bool  // a background renewal is under way
}

// State is an immutable snapshot of an entry. A new snapshot replaces the
// old one on every fetch attempt.
type State struct {
	Creds       ossd.Credentials // the newest valid credentials; zero if none yet
	FetchedAt   time.Time        // when Creds were fetched
	RefreshAt   time.Time        // when to renew Creds ahead of expiry
	LastAttempt time.Time
	Err         error     // the last fetch error; nil after a success
	Failures    int       // consecutive failures
	RetryAt     time.Time // earliest next attempt after a failure
}

func newEntry(p ossd.Params) *Entry { return &Entry{Key: p.Key(), Params: p} }

// Pinned reports whether the entry belongs to a configured role.
func (e *Entry) Pinned() bool { return e.pinned.Load() }

// State returns the current snapshot, or nil before the first attempt.
func (e *Entry) State() *State { return e.state.Load() }

// SetState publishes s.
func (e *Entry) SetState(s *State) { e.state.Store(s) }

// Lookup returns the entry's credentials if they have more than min left at
// now.
func (e *Entry) Lookup(now time.Time, min time.Duration) (ossd.Credentials, bool) {
	s := e.state.Load()
	if s == nil || !s.Creds.Valid(now, min) {
		return ossd.Credentials{}, false
	}
	return s.Creds, true
}

// Touch records that a caller was served at now.
func (e *Entry) Touch(now time.Time) {
	e.lastAccess.Store(now.UnixNano())
	e.served.Add(1)
}

// LastAccess returns when a caller was last served.
func (e *Entry) LastAccess() time.Time {
	n := e.lastAccess.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Served reports how many times credentials were handed out.
func (e *Entry) Served() int64 { return e.served.Load() }

// StartRenewal reports whether the caller may start a background renewal;
// it returns false while another one is under way. Call EndRenewal after.
func (e *Entry) StartRenewal() bool { return e.renewing.CompareAndSwap(false, true) }

// EndRenewal marks the background renewal as finished.
func (e *Entry) EndRenewal() { e.renewing.Store(false) }

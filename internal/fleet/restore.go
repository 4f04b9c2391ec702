package fleet

import (
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

// keptToken is what a token store keeps of one role across a restart: the
// token, and by the wall clock when it was due for renewal and when its
// requested lifetime ends (monotonic readings do not survive a process).
type keptToken struct {
	p         ossd.Params
	creds     ossd.Credentials
	refreshAt time.Time
	deadline  time.Time // zero: no bound beyond Expiration
}

// keep returns what a token store holds for d at the moment it stops.
func keep(d *daemon) []keptToken {
	now, mono := d.clk.Now(), d.clk.Mono()
	var out []keptToken
	for _, e := range d.entries {
		s := e.State()
		if s == nil || !s.Creds.Valid(now, 0) {
			continue
		}
		k := keptToken{p: e.Params, creds: s.Creds, refreshAt: now.Add(s.RefreshAt - mono)}
		if s.Deadline != 0 {
			k.deadline = now.Add(s.Deadline - mono)
		}
		out = append(out, k)
	}
	return out
}

// restore installs kept tokens in d's new cache before its roles start, as
// the daemon's start-up does with its token store: only tokens with more
// than the floor left, each as if fetched now, due for renewal when it was
// before the restart. Start then finds them and schedules no fetch.
func (s *sim) restore(d *daemon, kept []keptToken) {
	now, mono := d.clk.Now(), d.clk.Mono()
	for _, k := range kept {
		if !k.creds.Valid(now, s.o.Floor) || (!k.deadline.IsZero() && k.deadline.Sub(now) <= s.o.Floor) {
			continue
		}
		e := d.cache.Pin(k.p)
		st := &cache.State{Creds: k.creds, FetchedAt: now, Fetched: mono, LastAttempt: mono,
			RefreshAt: mono + max(0, k.refreshAt.Sub(now))}
		if !k.deadline.IsZero() {
			st.Deadline = mono + k.deadline.Sub(now)
		}
		e.SetState(st)
		d.cache.Schedule(e, st.RefreshAt)
	}
}

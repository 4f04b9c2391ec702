package refresher

import (
	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

// Peek answers as GetEntry would from the cache, and never waits: the
// token if it has more than the floor left (result "hit"), else if it has
// more than the hard minimum ("degraded", and a renewal is made due, as
// GetEntry does). With no such token it reports ok false and, where
// GetEntry would fetch and wait, makes a renewal of e due now instead
// (within the same limits as a degraded answer: not before a backoff in
// force), for RefreshDue or Run to fetch. It is for callers that must not
// block, such as a simulation that drives many refreshers on fake clocks;
// it tells the Observer what it served, as GetEntry does.
func (r *Refresher) Peek(e *cache.Entry) (c ossd.Credentials, result string, ok bool) {
	now, mono := r.clock.Now(), r.clock.Mono()
	if c, result, ok = r.cached(e, now, mono); ok {
		r.o.Observer.Served(result)
		return c, result, true
	}
	r.overdue(e, mono)
	return ossd.Credentials{}, "", false
}

package localsts

import "time"

// nonceTTL is how long a nonce is remembered after it was first seen: a
// request stamped T is accepted while the gateway clock is within T±15min,
// and T was at most 15 min ahead when seen, so 30 min covers it; the extra
// minute is margin for skew changes.
const nonceTTL = 2*timestampWindow + time.Minute

// nonceCache remembers SignatureNonces for nonceTTL. Memory is bounded by
// the number of accepted requests in that period. It is not safe for
// concurrent use; Server.mu guards it.
type nonceCache struct {
	seen  map[string]time.Time // nonce -> when it may be forgotten
	order []nonceEntry         // in insertion order, for pruning
}

type nonceEntry struct {
	nonce  string
	forget time.Time
}

func newNonceCache() nonceCache {
	return nonceCache{seen: make(map[string]time.Time)}
}

// has reports whether nonce was recorded and not yet forgotten.
func (c *nonceCache) has(nonce string) bool {
	_, ok := c.seen[nonce]
	return ok
}

// add records nonce at now; it reports false if nonce was already there.
func (c *nonceCache) add(nonce string, now time.Time) bool {
	c.prune(now)
	if c.has(nonce) {
		return false
	}
	forget := now.Add(nonceTTL)
	c.seen[nonce] = forget
	c.order = append(c.order, nonceEntry{nonce, forget})
	return true
}

// prune forgets the nonces whose time has passed. Entries are in insertion
// order, so it stops at the first one still due (a clock set back keeps a
// few entries longer, never shorter).
func (c *nonceCache) prune(now time.Time) {
	n := 0
	for n < len(c.order) && !now.Before(c.order[n].forget) {
		delete(c.seen, c.order[n].nonce)
		n++
	}
	if n > 0 {
		c.order = append(c.order[:0:0], c.order[n:]...)
	}
}

func (c *nonceCache) len() int { return len(c.seen) }

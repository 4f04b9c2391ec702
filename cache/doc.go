// Package cache holds one STS session per [ossd.Key]: configured roles are
// pinned and never evicted; sessions that callers request on demand live in
// a bounded LRU. The cache owns no goroutine and reads no clock: callers pass
// the time, so expiry decisions stay pure and testable.
//
// A Cache is safe for concurrent use. Each [Entry] publishes its state
// atomically, so the hit path takes one read lock and no allocation.
package cache

package cache

import "github.com/ossd/ossd"

// SetHash replaces the hash of the on-demand index, so that tests can make
// keys collide.
func SetHash(c *Cache, h func(ossd.Key) uint64) { c.lru.hash = h }

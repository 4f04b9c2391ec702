// Package ratelimit holds each local caller to a request rate, keyed by the
// caller's uid as the kernel reports it, on every listener alike: the Unix
// socket, the metadata listeners and the credentials URI. A user who floods
// the daemon spends only his own budget; another user's requests are
// counted in another bucket.
//
// The key is never a network address: on loopback every user can connect
// from any of 127.0.0.0/8, so an address says nothing about who is asking.
// A TCP caller that peer lookup cannot identify shares one bucket with every
// other unidentified caller.
//
// Buckets are token buckets (golang.org/x/time/rate) run on the injected
// clock's monotonic reading, so that a wall-clock step neither starves nor
// frees anyone. At most [MaxCallers] buckets are kept; the least recently
// used is dropped first, and a dropped bucket starts again full.
//
// A Limiter is safe for concurrent use. It has no goroutines.
package ratelimit

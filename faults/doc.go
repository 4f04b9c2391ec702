// Package faults holds the fault-injection suite: the daemon under STS
// outages, throttling, slow answers, resets, wall-clock steps and suspends,
// connection floods, slow clients and oversized requests. Every scenario
// checks what callers saw: each request answered, with complete credentials
// that have more than the hard minimum left, or with a JSON error carrying
// a stable code; never an expired or empty token, never silence.
//
// The package has no code outside its tests.
package faults

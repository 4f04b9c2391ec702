// Package audit writes the daemon's audit log: one JSON object per line for
// each security-relevant event, such as a URL signed on a caller's behalf or
// refused. Lines name who asked for what and what came of it; they never hold
// a signature, a secret or a token, and the Event type has no field for one.
//
// A Logger is safe for concurrent use: each event is written with a single
// Write call under a mutex, so lines never interleave. Its time comes from
// the injected clock.
package audit

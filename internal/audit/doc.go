// Package audit writes the daemon's audit log: one JSON object per line for
// each security-relevant event, such as credentials or a URL handed to a
// caller, or refused. Lines name who asked for what and what came of it;
// they never hold a signature, a secret or a token, and the Event type has
// no field for one.
//
// An action that hands something out is written with [Logger.Gate] before
// it is taken: when the line cannot be written (a full disk), Gate refuses
// and the action is not taken, unless the [Policy] is Optional. [Logger.State]
// tells whether the log is being written. Refusals, which a flood can
// repeat without end, are aggregated into summary lines (Event.Count) by
// package refusal before they reach a Logger.
//
// A Logger is safe for concurrent use: each event is written with a single
// Write call under a mutex, so lines never interleave. Its time comes from
// the injected clock.
package audit

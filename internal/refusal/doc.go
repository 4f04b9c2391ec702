// Package refusal records refused requests (access denials, rate-limited
// requests, credentials a caller could not have) in the audit log and the
// operational log, in bounded space however hard a caller floods.
//
// Refusals are grouped by caller uid, role, reason and listener. The first
// refusal of a group is written at once, in full. Further ones within the
// same interval ([Interval]) are only counted, and when the interval ends
// the group gets one summary line with the count; a group with no new
// refusal in a whole interval is forgotten, so its next refusal is written
// in full again. A flood of identical refusals therefore costs at most two
// lines per group per interval in each log.
//
// What a caller chooses cannot multiply the groups: a role name that is not
// configured is grouped as [Unconfigured], each caller uid has at most a
// fixed number of groups before the rest of its refusals share one, and the
// groups of all callers are bounded too.
//
// A Recorder is safe for concurrent use, and a nil *Recorder records
// nothing. [Recorder.Run] writes the summaries as intervals end, on the
// injected clock, and writes the pending ones when its context ends; call
// [Recorder.Flush] once more after the last request has been served.
package refusal

// Package ready says whether the daemon can do its job: serve a token for
// every configured role. It backs GET /readyz (on the Unix socket and the
// metrics listener), the exit code of `ossd status`, and systemd's
// READY=1.
//
// [Check] turns the service's role states into a [Report]: ready while
// every role is "ok" or "degraded" (a token above the hard minimum is
// served), not ready while any role is "failing" or "pending". The report
// names each failing role with its state and STS error code, the roles
// still pending, and the outcome of the last config load ([Reload]). A
// caller who may not have some roles sees only a count of those not ready,
// and no reload error text, which could name them.
//
// [WaitTried] blocks until every configured role has been tried, for
// READY=1. [Reloads] records config loads; it is safe for concurrent use.
package ready

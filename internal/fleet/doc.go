// Package fleet simulates a fleet of ossd daemons sharing one Alibaba Cloud
// account's AssumeRole limit, to show what the renewal schedule and the
// adaptive rate do at a scale no test machine can run for real.
//
// Each simulated daemon is the real refresher (refresher.New, Start,
// RefreshDue, Peek, the real rate limiter and renewal schedule) over a real
// cache.Cache, on a clock.Fake of its own. Nothing of their logic is
// re-implemented here. A discrete-event loop keeps the daemons on a heap
// ordered by the simulated time at which each next has work (what
// RefreshDue reported, or its callers' next request), moves that daemon's
// clock there and lets it work; the simulation never sleeps. Every fetch
// goes to an in-process model of STS that counts calls per simulated
// second across the whole account and answers Throttling.User (an
// *ossd.STSError) above the account's limit. Simulated callers ask every
// daemon for every role now and then through Refresher.Peek, which answers
// as GetEntry would from the cache without waiting and, on a miss, makes
// the role due at once; what they are served is judged against the
// expiry STS itself wrote.
//
// Run is deterministic for a given Options.Seed. It owns no goroutine
// beyond those each refresher starts and waits for within RefreshDue, and
// runs share nothing: several may run at once.
package fleet

// Package refresher keeps one valid STS token per cache entry.
//
// Get answers from the cache whenever the cached token has more than the
// floor left, so callers never wait on STS once a role is warm. A cold or
// exhausted entry is fetched once no matter how many callers ask
// (singleflight), on a context detached from any one caller. Run renews
// tokens in the background at the later of half their lifetime and the
// moment they have floor + OutageMargin left, each at random within Spread
// before that point, and retries failures with exponential backoff and
// full jitter; throttling pauses all background renewal. All AssumeRole
// calls share one rate limit, which adapts to throttling. Peek answers
// from the cache as Get would, without ever waiting.
//
// A Refresher is safe for concurrent use. Run blocks until its context ends;
// the caller owns the goroutine that runs it.
package refresher

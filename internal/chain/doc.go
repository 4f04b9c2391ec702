// Package chain assumes roles with other roles' credentials: role chaining,
// a [[role]] with source_role, as a hub role in one account assumes roles in
// others.
//
// A [Fetcher] is the [ossd.Fetcher] the refresher calls. A call whose
// [ossd.Params] has no Via goes to the [Signer] as it is, signed with the
// source credential. A chained call first gets the source role's
// credentials from a [Source], which is the refresher itself, so the
// parent's cache, singleflight, renewal and floor serve its children too;
// then it calls AssumeRole signed with the parent's STS AccessKeyId, secret
// and SecurityToken.
//
// A chained session never outlives the parent token that signed it: when
// the parent has less left than the child asks for, the child's duration
// is cut to what the parent has left (logged at Info with both), down to
// STS's 15 minute minimum; below that, or when the parent has no valid
// token, the child's fetch fails with an error naming the parent, and the
// refresher keeps serving the child's still-valid token and retries.
//
// A Fetcher is safe for concurrent use once [Fetcher.Bind] has given it its
// Source, which must happen before the first chained fetch (the refresher
// is built with the Fetcher, so Bind comes right after). It owns no
// goroutine.
package chain

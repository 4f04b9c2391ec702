//go:build ossd_bench

package config

// MaxQPSLimit is lifted in a build with -tags ossd_bench, which only
// `ossd-bench scale` makes: filling 100,000 on-demand sessions at STS's
// 100 calls a second would take 17 minutes against the local STS, for the
// same memory. No installed binary is built with the tag (make build,
// the Containerfile and every documented install line build without it),
// and a config above 100 in such a build is loaded with a warning.
const MaxQPSLimit = 1_000_000

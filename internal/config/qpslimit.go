//go:build !ossd_bench

package config

// MaxQPSLimit is the most sts.max_qps may be: STS allows 100 AssumeRole
// calls per second per account, shared by all its users and roles.
const MaxQPSLimit = 100

// Package version reports what build of ossd is running: the module
// version, the VCS revision and commit time, whether the tree was modified,
// and the Go version, all read from [runtime/debug.ReadBuildInfo]. Nothing
// is stamped in at link time, so `go build`, `go install` and `make build`
// report the same kind of facts.
//
// The functions are pure apart from reading the binary's build info, and
// safe for concurrent use.
package version

// Package needs lets a test say what it needs from the machine (a tool, a
// file such as compat/node/node_modules, root) and decides what happens
// without it: under CI=true a missing dependency fails the test, because
// CI installs everything the suite uses; elsewhere the test is skipped,
// saying what to install. Root is the exception: a test that needs root is
// skipped when not root, in CI too (CI runs as root).
//
// Skips are remembered per group (the reason), and [Main], called from a
// package's TestMain, prints one line per group to standard error after
// the tests ran: "needs: skipped 4 tests: node not found: install nodejs".
// go test shows that line with -v, -json, in a package directory, or when
// the package fails; `go test ./...` hides the output of packages that
// pass, so `make test` runs go test -json through [skipreport], which
// prints the lines in every case.
//
// The functions are safe for concurrent use (parallel tests).
package needs

package needs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
)

// Prefix starts every line [Main] prints; skipreport looks for it.
const Prefix = "needs: skipped "

// skipped counts skips by reason for the test binary's lifetime: the one
// piece of shared state, because TestMain has no other way to learn what
// the tests skipped.
var skipped = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// CI reports whether the tests run in CI (CI=true), where a missing
// dependency is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing fails t under CI=true and skips it elsewhere, with why and the
// fix, e.g. Missing(t, "node not found", "install nodejs").
func Missing(t testing.TB, why, fix string) {
	t.Helper()
	msg := why + ": " + fix
	if CI() {
		t.Fatalf("%s (CI=true: a missing dependency is a failure; .ci/run must install it)", msg)
	}
	record(msg)
	t.Skip(msg)
}

// Tool returns the path of the command name, found on PATH or given as an
// absolute path; without it see [Missing]. pkg is the Debian package
// that has it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found", "install "+pkg+" (apt-get install "+pkg+")")
	}
	return p
}

// File checks that path exists; without it see [Missing], with fix.
func File(t testing.TB, path, fix string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path+" is missing", fix)
	}
}

// Root skips t unless it runs as root, in CI too.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		msg := "needs root " + why
		record(msg)
		t.Skip(msg)
	}
}

func record(msg string) {
	skipped.Lock()
	defer skipped.Unlock()
	skipped.n[msg]++
}

// Main runs the tests, prints one line per group of skipped tests to
// stderr, and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Report(os.Stderr)
	os.Exit(code)
}

// Report writes one line per group of skipped tests to w.
func Report(w io.Writer) {
	skipped.Lock()
	defer skipped.Unlock()
	reasons := make([]string, 0, len(skipped.n))
	for r := range skipped.n {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		noun := "tests"
		if skipped.n[r] == 1 {
			noun = "test"
		}
		fmt.Fprintf(w, "%s%d %s: %s\n", Prefix, skipped.n[r], noun, r)
	}
}

// Command skipreport reads `go test -json` on stdin and prints what plain
// `go test` prints (an ok or FAIL line per package, and the output of
// failed tests) plus the lines that internal/needs prints for skipped
// groups, which plain `go test ./...` hides for packages that pass. It
// exits 1 if any test or package failed. `make test` uses it:
//
//	go test -race -count=1 -json ./... | go run ./internal/needs/skipreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ossd/ossd/internal/needs"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	failed, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipreport:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// report copies the summary of the events in r to w and reports whether
// anything failed.
func report(r io.Reader, w io.Writer) (failed bool, err error) {
	out := map[string][]string{} // output so far, by package and test
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(w, sc.Text()) // a build error, printed as it is
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			if strings.HasPrefix(e.Output, needs.Prefix) {
				fmt.Fprintf(w, "%s: %s", e.Package, e.Output)
			}
			out[key] = append(out[key], e.Output)
		case "fail":
			failed = true
			if e.Test != "" || len(out[key]) > 0 {
				fmt.Fprint(w, strings.Join(out[key], ""))
			}
			if e.Test == "" {
				fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(out, key)
		case "pass", "skip":
			if e.Test == "" {
				fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(out, key)
		}
	}
	return failed, sc.Err()
}

package needs_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/needs"
)

// TestMissing runs this test binary again with and without CI=true, asking
// for a tool that does not exist.
func TestMissing(t *testing.T) {
	if os.Getenv("NEEDS_CHILD") == "1" {
		needs.Tool(t, "ossd-no-such-tool", "ossd-no-such-package")
		t.Fatal("Tool returned without the tool")
	}
	run := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$")
		cmd.Env = append(os.Environ(), "NEEDS_CHILD=1", "CI="+ci)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run("")
	if err != nil || !strings.Contains(out, needs.Prefix+"1 test: ossd-no-such-tool not found: install ossd-no-such-package") {
		t.Errorf("without CI: %v\n%s", err, out)
	}
	out, err = run("true")
	if err == nil || !strings.Contains(out, "CI=true: a missing dependency is a failure") {
		t.Errorf("with CI=true: %v, want a failure\n%s", err, out)
	}
}

func TestMain(m *testing.M) { needs.Main(m) }

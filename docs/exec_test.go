package docs_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/needs"
)

// TestExecAuditExample: the exec, issue and revoke lines shown in
// docs/exec.md have the keys, in order, of the lines the daemon writes
// for one `ossd exec`.
func TestExecAuditExample(t *testing.T) {
	needs.Tool(t, "curl", "curl")
	doc := map[string]string{}
	for _, b := range blocks(t) {
		if b.file == "exec.md" && len(b.info) > 0 && b.info[0] == "json" {
			for _, l := range strings.Split(strings.TrimSpace(b.body), "\n") {
				doc[eventOf(l)] = l
			}
		}
	}
	d, sock, _ := devDaemon(t)
	cmd := exec.Command(ossdBin, "exec", "--socket", sock, "--role", "reader", "--", "sh", "-c", `curl -sf "$ALIBABA_CLOUD_CREDENTIALS_URI" >/dev/null`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ossd exec: %v\n%s", err, out)
	}
	real := map[string]string{}
	for deadline := time.Now().Add(20 * time.Second); len(real) < 3; time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(d.Stderr.String(), "\n") {
			if ev := eventOf(l); ev == "exec" || ev == "revoke" || ev == "issue" && strings.Contains(l, `"path":"exec tcp `) {
				real[ev] = l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exec, issue and revoke lines in:\n%s", d.Stderr)
		}
	}
	for _, ev := range []string{"exec", "issue", "revoke"} {
		if doc[ev] == "" {
			t.Errorf("docs/exec.md shows no %s line", ev)
			continue
		}
		if got, want := keys(t, doc[ev]), keys(t, real[ev]); got != want {
			t.Errorf("docs/exec.md %s keys\n  %s\nthe daemon writes\n  %s", ev, got, want)
		}
	}
}

// eventOf returns the "event" of an audit line, or "".
func eventOf(line string) string {
	_, rest, ok := strings.Cut(line, `"event":"`)
	if !strings.HasPrefix(line, "{") || !ok {
		return ""
	}
	ev, _, _ := strings.Cut(rest, `"`)
	return ev
}

package main_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// TestReadyNamesFailingRoles: READY=1 comes once every role has been
// tried, a failing one included, and STATUS= names the failing role.
func TestReadyNamesFailingRoles(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	dir := shortDir(t)
	n := listenNotify(t, dir)
	path := writeConfig(t, stsConfig(endpoint, readerAndBroken()))
	cmd := exec.Command(ossdBin, "serve", "--config", path, "--socket", filepath.Join(dir, "ossd.sock"))
	cmd.Env = childEnv("NOTIFY_SOCKET=" + n.path)
	p := startProc(t, cmd)
	waitUntil(t, "READY=1", func() bool { return n.count("READY=1") == 1 })
	if n.count("STATUS=2 roles: 1 ok, 1 failing (broken)") == 0 {
		t.Errorf("no STATUS naming the failing role in %s", n)
	}
	for _, m := range n.all() {
		if strings.Contains(m, "READY=1") && !strings.Contains(m, "failing (broken)") {
			t.Errorf("READY=1 sent without the failing role in STATUS=: %q", m)
		}
	}
	p.stop(t)
}

// all returns a copy of the notifications received.
func (n *notifications) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

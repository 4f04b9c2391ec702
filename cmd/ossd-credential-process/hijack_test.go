package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/testenv"
)

// Issue 12, point 1: the attacker, uid 4701, listens at the victim's socket
// path. The helper refuses it, prints none of its answer and exits 3.
func TestRefusesHijackedSocket(t *testing.T) {
	layouts := testenv.HijackLayouts(t)
	bin := filepath.Join(t.TempDir(), "ossd-credential-process")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, l := range layouts {
		t.Run(l.Name, func(t *testing.T) {
			testenv.StartAttacker(t, l)
			var stdout, stderr bytes.Buffer
			err := run([]string{"--role", "reader", "--socket", l.Socket}, &stdout, &stderr)
			if _, ok := errors.AsType[*daemonid.WrongDaemonError](err); !ok || stdout.Len() != 0 {
				t.Fatalf("run = %v, stdout %q; want a WrongDaemonError and no output", err, stdout.String())
			}
			cmd := exec.Command(bin, "--role", "reader", "--socket", l.Socket)
			out, err := cmd.Output()
			if cmd.ProcessState.ExitCode() != daemonid.ExitCode || strings.Contains(string(out), testenv.AttackerMarker) {
				t.Errorf("binary: exit %d (%v), stdout %q; want exit %d and no output", cmd.ProcessState.ExitCode(), err, out, daemonid.ExitCode)
			}
			stdout.Reset()
			if err := run([]string{"--role", "reader", "--socket", l.Socket, "--daemon-uid", "4701"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), testenv.AttackerMarker) {
				t.Errorf("with --daemon-uid 4701: %v, stdout %q; want the listener's answer", err, stdout.String())
			}
		})
	}
}

package reach_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/reach"
)

func dial(t *testing.T, path string) error {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err == nil {
		c.Close()
	}
	return err
}

func TestDiagnose(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "ossd-reach-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	missing := filepath.Join(dir, "missing.sock")
	e := reach.Diagnose(missing, "--socket", dial(t, missing))
	if e.Kind != reach.NotRunning || !strings.Contains(e.Error(), "ossd is not running at "+missing+" (socket chosen by --socket)") || !strings.Contains(e.Error(), "start it with") {
		t.Errorf("missing socket: %v", e)
	}

	// A socket file nobody listens on: connection refused.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if e := reach.Diagnose(stale, "the default", dial(t, stale)); e.Kind != reach.NotRunning {
		t.Errorf("stale socket: kind %v, %v", e.Kind, e)
	}

	timeout := fmt.Errorf("get: %w", context.DeadlineExceeded)
	if e := reach.Diagnose(stale, "$OSSD_SOCKET", timeout); e.Kind != reach.NotAnswering || !strings.Contains(e.Error(), "did not answer in time") {
		t.Errorf("timeout: %v", e)
	}

	// EACCES names the socket's owner, group and mode. (A real refusal
	// needs another uid: cmd/ossd's TestStatusPermissionDenied.)
	if e := reach.Diagnose(stale, "--socket", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EACCES)}); e.Kind != reach.Denied ||
		!strings.Contains(e.Error(), "permission denied on "+stale) || !strings.Contains(e.Error(), "mode 0") {
		t.Errorf("permission denied: %v", e)
	}
	if !errors.Is(reach.Diagnose(stale, "x", timeout), context.DeadlineExceeded) {
		t.Error("Diagnose does not wrap its cause")
	}
}

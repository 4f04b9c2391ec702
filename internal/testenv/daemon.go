package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/paths"
)

// BuildOssd builds cmd/ossd into dir and returns the binary's path. Call it
// once from TestMain.
func BuildOssd(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "ossd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ossd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ossd: %v\n%s", err, out)
	}
	return bin, nil
}

// SyncBuffer collects a child's output while it runs.
type SyncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Daemon is a running ossd binary.
type Daemon struct {
	Cmd            *exec.Cmd
	Stdout, Stderr *SyncBuffer
	Socket         string
	done           chan error
}

// StartDaemon runs bin with args (which must make it serve on socket) and
// waits until /healthz answers. The daemon is stopped at cleanup. Unless
// the test set $RUNTIME_DIRECTORY, the daemon gets a fresh one of its own
// (see [RuntimeDir]), so that no test sees the tokens another kept.
func StartDaemon(t testing.TB, bin, socket string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{Cmd: exec.Command(bin, args...), Stdout: new(SyncBuffer), Stderr: new(SyncBuffer), Socket: socket, done: make(chan error, 1)}
	d.Cmd.Stdout, d.Cmd.Stderr = d.Stdout, d.Stderr
	d.Cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")
	if os.Getenv(paths.EnvRuntimeDirectory) == "" {
		d.Cmd.Env = append(d.Cmd.Env, paths.EnvRuntimeDirectory+"="+RuntimeDir(t))
	}
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.Cmd.Wait() }()
	t.Cleanup(func() { d.Stop(t) })
	c := UnixClient(socket)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := c.Get("http://localhost/healthz")
		if err == nil {
			resp.Body.Close()
			return d
		}
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("ossd exited early: %v\nstderr:\n%s", err, d.Stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ossd did not answer on %s\nstderr:\n%s", socket, d.Stderr)
		}
	}
}

// Exited reports whether the daemon has exited, and how. It reads what
// the goroutine waiting for the process reported, never Cmd.ProcessState,
// which that goroutine writes.
func (d *Daemon) Exited() (bool, error) {
	select {
	case err := <-d.done:
		d.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits up to 30 s for a clean exit. A daemon that
// has already exited is not signalled; an unclean earlier exit is reported.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	if exited, err := d.Exited(); exited {
		if err != nil {
			t.Errorf("ossd had exited with %v\nstderr:\n%s", err, d.Stderr)
		}
		return
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Errorf("ossd exited with %v\nstderr:\n%s", err, d.Stderr)
		}
	case <-time.After(30 * time.Second):
		d.Cmd.Process.Kill()
		t.Errorf("ossd did not stop within 30s of SIGTERM")
	}
}

// Kill ends the daemon with SIGKILL, as a crash or the OOM killer would,
// and waits for it: it gets no chance to clean up.
func (d *Daemon) Kill(t testing.TB) {
	t.Helper()
	if err := d.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.done      // "signal: killed", as asked
	d.done <- nil // Stop at cleanup finds the process gone, not failed
}

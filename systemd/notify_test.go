package systemd_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ossd/ossd/systemd"
)

// clearEnv unsets every variable systemd passes, for the test's duration.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// notifySocket listens on a unixgram socket, points NOTIFY_SOCKET at it and
// returns it. abstract selects a Linux abstract address ("@name").
func notifySocket(t *testing.T, abstract bool) *net.UnixConn {
	t.Helper()
	clearEnv(t)
	dir, err := os.MkdirTemp("/tmp", "ossd-sd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	name := filepath.Join(dir, "notify")
	if abstract {
		name = "@" + name
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return c
}

// recv reads one notification, failing the test after 30 s.
func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read notification: %v", err)
	}
	return string(buf[:n])
}

// nothingPending fails if a notification arrives within 50 ms.
func nothingPending(t *testing.T, c *net.UnixConn) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("unexpected notification %q (err %v)", buf[:n], err)
	}
}

func TestNoOpWithoutSystemd(t *testing.T) {
	clearEnv(t)
	if systemd.Enabled() {
		t.Error("Enabled() = true without NOTIFY_SOCKET")
	}
	if err := systemd.Notify(systemd.Ready, systemd.Status("x")); err != nil {
		t.Errorf("Notify without NOTIFY_SOCKET = %v, want nil", err)
	}
	if d, err := systemd.WatchdogInterval(); d != 0 || err != nil {
		t.Errorf("WatchdogInterval() = %v, %v; want 0, nil", d, err)
	}
	ls, err := systemd.Listeners()
	if err != nil || len(ls) != 0 {
		t.Errorf("Listeners() = %v, %v; want empty", ls, err)
	}
	done := make(chan error, 1)
	go func() { done <- systemd.Run(t.Context(), systemd.Options{Watchdog: time.Second}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return at once without NOTIFY_SOCKET")
	}
}

func TestNotify(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run("abstract="+strconv.FormatBool(abstract), func(t *testing.T) {
			c := notifySocket(t, abstract)
			if !systemd.Enabled() {
				t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
			}
			if err := systemd.Notify(systemd.Ready, systemd.Status("2 roles:\nok")); err != nil {
				t.Fatal(err)
			}
			if got, want := recv(t, c), "READY=1\nSTATUS=2 roles: ok"; got != want {
				t.Errorf("notification = %q, want %q", got, want)
			}
			if err := systemd.Notify(); err != nil {
				t.Fatal(err)
			}
			nothingPending(t, c)
		})
	}
}

func TestNotifyFailure(t *testing.T) {
	clearEnv(t)
	t.Setenv("NOTIFY_SOCKET", "/nonexistent/ossd-notify")
	if err := systemd.Notify(systemd.Ready); err == nil {
		t.Error("Notify to a missing socket succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		wantErr         bool
	}{
		{"unset", "", "", 0, false},
		{"30s", "30000000", "", 30 * time.Second, false},
		{"for us", "1500000", me, 1500 * time.Millisecond, false},
		{"for another process", "30000000", "1", 0, false},
		{"not a number", "30s", "", 0, true},
		{"zero", "0", "", 0, true},
		{"negative", "-5", "", 0, true},
		{"bad pid", "30000000", "me", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			if tc.usec != "" {
				t.Setenv("WATCHDOG_USEC", tc.usec)
			}
			if tc.pid != "" {
				t.Setenv("WATCHDOG_PID", tc.pid)
			}
			got, err := systemd.WatchdogInterval()
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("WatchdogInterval() = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if got := systemd.PingEvery(30 * time.Second); got != 15*time.Second {
		t.Errorf("PingEvery(30s) = %v, want 15s", got)
	}
}

package systemd_test

import (
	"github.com/ossd/ossd/internal/needs"

	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/systemd"
)

// requireTool returns path, skipping the test when it is missing, except
// under CI=true, where a missing tool is a failure.
func requireTool(t *testing.T, path string) string {
	t.Helper()
	return needs.Tool(t, path, "systemd")
}

func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "ossd-sd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestListeners runs this test binary under systemd-socket-activate with
// two named sockets; TestListenersChild checks them from inside.
func TestListeners(t *testing.T) {
	tool := requireTool(t, "/usr/bin/systemd-socket-activate")
	dir := shortDir(t)
	api, md := filepath.Join(dir, "api.sock"), filepath.Join(dir, "md.sock")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, "-l", api, "-l", md, "--fdname=ossd:ossd-metadata",
		"-E", "OSSD_SD_CHILD="+api+":"+md, os.Args[0], "-test.run=^TestListenersChild$", "-test.v")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// systemd-socket-activate starts the child on the first connection;
	// the child accepts this very connection and writes to it.
	conn := dialRetry(t, api)
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, _ := readAll(conn)
	err := cmd.Wait()
	if err != nil || got != "hello from the child\n" || !strings.Contains(out.String(), "--- PASS: TestListenersChild") {
		t.Fatalf("child: %v; read %q; output:\n%s", err, got, &out)
	}
}

func dialRetry(t *testing.T, path string) net.Conn {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", path, err)
		}
	}
}

func readAll(c net.Conn) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(c)
	return b.String(), err
}

func TestListenersChild(t *testing.T) {
	paths, ok := os.LookupEnv("OSSD_SD_CHILD")
	if !ok {
		t.Skip("run by TestListeners under systemd-socket-activate")
	}
	api, md, _ := strings.Cut(paths, ":")
	ls, err := systemd.Listeners()
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ls); strings.Join(got, ",") != "ossd,ossd-metadata" {
		t.Fatalf("names = %v, want [ossd ossd-metadata]", got)
	}
	for name, want := range map[string]string{systemd.SocketName: api, systemd.MetadataName: md} {
		if g := ls[name]; len(g) != 1 || g[0].Addr().String() != want {
			t.Errorf("%s: %v, want one listener on %s", name, g, want)
		}
	}
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if v, set := os.LookupEnv(k); set {
			t.Errorf("%s=%q still set after Listeners", k, v)
		}
	}
	if again, _ := systemd.Listeners(); len(again) != 0 {
		t.Errorf("second Listeners() = %v, want empty", again)
	}
	ln := systemd.Take(ls, systemd.SocketName)[0]
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello from the child\n"))
	c.Close()
	ln.Close()
	systemd.Take(ls, systemd.MetadataName)[0].Close()
	for _, p := range []string{api, md} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("closing the inherited listener removed %s: %v", p, err)
		}
	}
}

func names(ls map[string][]net.Listener) []string {
	var out []string
	for n := range ls {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func listen(t *testing.T, dir, name string) net.Listener {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestTake(t *testing.T) {
	dir := shortDir(t)
	a, b, c := listen(t, dir, "a"), listen(t, dir, "b"), listen(t, dir, "c")
	tests := []struct {
		name     string
		ls       map[string][]net.Listener
		take     []net.Listener // Take(ls, SocketName)
		only     net.Listener   // TakeOnly after that
		leftover int
	}{
		{"named", map[string][]net.Listener{"ossd": {a, b}, "ossd-metadata": {c}}, []net.Listener{a, b}, nil, 1},
		{"unnamed only", map[string][]net.Listener{"unknown": {a}}, nil, a, 0},
		{"metadata only", map[string][]net.Listener{"ossd-metadata": {a}}, nil, nil, 1},
		{"two unnamed", map[string][]net.Listener{"LISTEN_FD_3": {a}, "LISTEN_FD_4": {b}}, nil, nil, 2},
		{"one name, two sockets", map[string][]net.Listener{"ossd.socket": {a, b}}, nil, nil, 1},
		{"empty", map[string][]net.Listener{}, nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := systemd.Take(tc.ls, systemd.SocketName)
			if len(got) != len(tc.take) || (len(got) > 0 && (got[0] != tc.take[0] || got[len(got)-1] != tc.take[len(tc.take)-1])) {
				t.Errorf("Take = %v, want %v", got, tc.take)
			}
			if only := systemd.TakeOnly(tc.ls); only != tc.only {
				t.Errorf("TakeOnly = %v, want %v", only, tc.only)
			}
			if len(tc.ls) != tc.leftover {
				t.Errorf("left %d names, want %d", len(tc.ls), tc.leftover)
			}
		})
	}
}

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
	"github.com/ossd/ossd/socket"
)

var update = flag.Bool("update", false, "rewrite testdata/credential-process.golden")

// goldenNow is the daemon's fake time in these tests; fixedCreds expire an
// hour later.
var goldenNow = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// fixedCreds are fake credentials: a known answer for the golden file.
func fixedCreds(role string) ossd.Credentials {
	return ossd.Credentials{
		AccessKeyID:     "STS.FakeKeyFor" + role,
		AccessKeySecret: ossd.Secret("FakeSecret+/=" + role + "0123456789"),
		SecurityToken:   ossd.NewToken("CAISFakeToken+/=" + role + "abcdefghijklmnopqrstuvwxyz"),
		Expiration:      goldenNow.Add(time.Hour),
		LastUpdated:     goldenNow,
	}
}

// fixedDaemon serves the real socket API, service, refresher and cache for
// roles on a fresh socket; fetch stands in for STS.
func fixedDaemon(t testing.TB, fetch ossd.FetcherFunc, roles ...string) string {
	t.Helper()
	clk := clock.NewFake(goldenNow)
	c := cache.New(10)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, Seed: 1})
	svc := service.New(ref, c, clk, nil)
	var rs []service.Role
	for _, r := range roles {
		rs = append(rs, service.Role{Name: r, Params: testenv.Params(r)})
	}
	svc.Apply(context.Background(), rs)
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.New(socket.Options{Service: svc}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return path
}

// fixedFetch answers every role with fixedCreds, and counts.
func fixedFetch(calls *atomic.Int32) ossd.FetcherFunc {
	return func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		calls.Add(1)
		return fixedCreds(strings.TrimPrefix(p.SessionName, "ossd-")), nil
	}
}

// runBin runs ossd with args and env added to a clean environment.
func runBin(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossdBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run ossd %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestCredentialProcessGolden(t *testing.T) {
	var calls atomic.Int32
	sock := fixedDaemon(t, fixedFetch(&calls), "reader")
	stdout, stderr, code := runBin(t, nil, "credential-process", "--role", "reader", "--socket", sock)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	golden := filepath.Join("testdata", "credential-process.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if stdout != string(want) {
		t.Errorf("stdout =\n%s\nwant (%s)\n%s", stdout, golden, want)
	}
	// The same through $OSSD_SOCKET, which a profile line relies on.
	if out, _, code := runBin(t, []string{"OSSD_SOCKET=" + sock}, "credential-process", "--role", "reader"); code != 0 || out != stdout {
		t.Errorf("via OSSD_SOCKET: exit %d, stdout %q", code, out)
	}
	if calls.Load() != 1 {
		t.Errorf("STS calls = %d, want 1 (the daemon caches)", calls.Load())
	}
}

func TestCredentialProcessErrors(t *testing.T) {
	var calls atomic.Int32
	sock := fixedDaemon(t, fixedFetch(&calls), "reader", "writer")
	failing := fixedDaemon(t, func(context.Context, ossd.Params) (ossd.Credentials, error) {
		return ossd.Credentials{}, &ossd.STSError{Code: "NoPermission", Message: "You are not authorized to do this action."}
	}, "reader")
	stale := filepath.Join(filepath.Dir(testenv.SocketPath(t)), "stale.sock")
	os.WriteFile(stale, nil, 0o600) // a plain file: connect is refused
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no daemon", []string{"--role", "reader", "--socket", "/nonexistent/ossd.sock"}, 1,
			[]string{"/nonexistent/ossd.sock", "does not exist", "ossd serve --config FILE", "systemctl start ossd", "OSSD_SOCKET"}},
		{"not a listening socket", []string{"--role", "reader", "--socket", stale}, 1, []string{stale, "nothing listens"}},
		{"unknown role", []string{"--role", "nosuch", "--socket", sock}, 1, []string{`no role "nosuch"`, "it serves: reader, writer"}},
		{"STS refuses", []string{"--role", "reader", "--socket", failing}, 1, []string{"CredentialsUnavailable", "NoPermission"}},
		{"bad session", []string{"--role", "reader", "--session", "a b", "--socket", sock}, 1, []string{"BadRequest", "session"}},
		{"no role", []string{"--socket", sock}, 2, []string{"--role NAME is required"}},
		{"direct without config", []string{"--role", "reader", "--direct"}, 2, []string{"--direct needs --config"}},
		{"config without direct", []string{"--role", "reader", "--config", "x.toml"}, 2, []string{"only used with --direct"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBin(t, nil, append([]string{"credential-process"}, tc.args...)...)
			if code != tc.code || stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and no stdout", code, stdout, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, r := range []string{"reader", "writer"} {
				c := fixedCreds(r)
				if strings.Contains(stderr, c.AccessKeySecret.Reveal()) || strings.Contains(stderr, c.SecurityToken.Reveal()) {
					t.Errorf("stderr holds a secret:\n%s", stderr)
				}
			}
		})
	}
}

// TestCredentialProcessPermission runs the helper as an unprivileged user
// against a root-owned 0600 socket, and against one in a 0700 directory.
func TestCredentialProcessPermission(t *testing.T) {
	needs.Root(t, "to run the helper as another user")
	var calls atomic.Int32
	sock := fixedDaemon(t, fixedFetch(&calls), "reader")
	dir, err := os.MkdirTemp("", "ossd-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "ossd")
	if err := copyFile(ossdBin, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(sock), 0o755) // socket itself stays 0600, root-owned
	hidden := filepath.Join(dir, "private", "ossd.sock")
	os.Mkdir(filepath.Dir(hidden), 0o700)
	for name, tc := range map[string]struct{ socket, want string }{
		"socket mode":    {sock, sock + " is owned by root(0):root(0) with mode 0600"},
		"directory mode": {hidden, filepath.Dir(hidden) + " is owned by root(0):root(0) with mode 0700"},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "credential-process", "--role", "reader", "--socket", tc.socket)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			if err == nil || out.Len() != 0 {
				t.Fatalf("run as nobody: %v, stdout %q", err, out.String())
			}
			for _, w := range []string{"permission denied", tc.want, "you are ", "socket_group"} {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
		})
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// checkOutput decodes one credential-process output.
func checkOutput(t testing.TB, out string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["mode"] != "StsToken" || m["AccessKeyId"] != m["access_key_id"] {
		t.Fatalf("output %q: %v", out, err)
	}
	return m
}

func TestCredentialProcessSession(t *testing.T) {
	var calls atomic.Int32
	sock := fixedDaemon(t, func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		calls.Add(1)
		return fixedCreds(p.SessionName), nil
	}, "reader")
	out, stderr, code := runBin(t, nil, "credential-process", "--role", "reader", "--session", "job-7", "--socket", sock)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if m := checkOutput(t, out); m["AccessKeyId"] != "STS.FakeKeyForossd-reader-job-7" {
		t.Errorf("AccessKeyId = %s, want the session's own", m["AccessKeyId"])
	}
}

package main_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

var ossdBin string

func TestMain(m *testing.M) {
	if n := os.Getenv("OSSD_TEST_FLOOD"); n != "" {
		os.Exit(clientFlood(os.Getenv("OSSD_TEST_FLOOD_SOCKET"), os.Getenv("OSSD_TEST_FLOOD_PATH"), n))
	}
	if sock := os.Getenv("OSSD_TEST_GET_SOCKET"); sock != "" {
		os.Exit(clientGet(sock, os.Getenv("OSSD_TEST_GET_PATH")))
	}
	if url := os.Getenv("OSSD_TEST_GET_URL"); url != "" {
		os.Exit(clientGetURL(url))
	}
	if os.Getenv("OSSD_TEST_EXEC_CLIENT") != "" {
		os.Exit(execClient()) // exec_test.go
	}
	dir, err := os.MkdirTemp("", "ossd-bin-")
	if err != nil {
		panic(err)
	}
	ossdBin = filepath.Join(dir, "ossd")
	out, err := exec.Command("go", "build", "-o", ossdBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build ossd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	needs.Report(os.Stderr)
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running ossd binary.
type daemon = testenv.Daemon

// startDaemon runs ossd with args and waits until its socket answers.
func startDaemon(t *testing.T, socket string, args ...string) *daemon {
	t.Helper()
	return testenv.StartDaemon(t, ossdBin, socket, args...)
}

func get(t *testing.T, socket, path string) (int, string) {
	t.Helper()
	resp, err := testenv.UnixClient(socket).Get("http://localhost" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeDev(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	status, body := get(t, sock, "/v1/credentials/demo")
	if status != 200 || !strings.Contains(body, `"Code":"Success"`) || !strings.Contains(body, `"AccessKeyId":"STS.`) {
		t.Errorf("GET demo = %d %s", status, body)
	}
	waitFor(t, func() bool { return strings.Contains(d.Stdout.String(), "curl --unix-socket") })
	banner := d.Stdout.String()
	for _, want := range []string{"FAKE", "curl --unix-socket " + sock + " http://localhost/v1/credentials/demo"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	d.Stop(t)
	if _, err := os.Stat(sock); err == nil {
		t.Error("socket left behind after SIGTERM")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// TestServeConfig runs the binary against a local STS with a config file and
// checks that everything it logs at debug level is free of secrets.
func TestServeConfig(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte(testenv.KeySecret+"\n"), 0o600)
	cfg := fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret_file = "secret"
[sts]
region = "cn-hangzhou"
endpoint = %q
[log]
level = "debug"
[[role]]
name = "reader"
arn = %q
`, testenv.KeyID, endpoint, testenv.Params("reader").RoleARN)
	path := filepath.Join(dir, "ossd.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	status, body := get(t, sock, "/v1/credentials/reader")
	issued := s.Issued()
	if status != 200 || len(issued) != 1 || !strings.Contains(body, issued[0].SecurityToken) {
		t.Fatalf("GET reader = %d %s (issued %d)", status, body, len(issued))
	}
	if status, body := get(t, sock, "/v1/credentials/writer"); status != 404 || !strings.Contains(body, "UnknownRole") {
		t.Errorf("GET writer = %d %s", status, body)
	}
	d.Stop(t)
	logtest.NoSecrets(t, "daemon stderr", d.Stderr.String(), testenv.KeySecret, issued[0].AccessKeySecret, issued[0].SecurityToken)
	logtest.NoSecrets(t, "daemon stdout", d.Stdout.String(), testenv.KeySecret, issued[0].AccessKeySecret, issued[0].SecurityToken)
}

func TestServeRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\nregoin = \"x\"\n[[role]]\nname = \"r\"\narn = \"acs:ram::1111111111111111:role/r\"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no mode", []string{"serve"}, 2, "give --config FILE, or --dev"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown key", []string{"serve", "--config", bad}, 1, "regoin"},
		{"missing file", []string{"serve", "--config", filepath.Join(dir, "nope.toml")}, 1, "nope.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, ossdBin, tc.args...).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != tc.code {
				t.Fatalf("exit = %v, want code %d; output:\n%s", err, tc.code, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestStatusAndConfigCheck(t *testing.T) {
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	waitTried(t, sock) // serving starts before the first fetch
	out, err := exec.Command(ossdBin, "status", "--socket", sock).CombinedOutput()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	table, _, _ := strings.Cut(string(out), "\n\n")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ROLE") || !strings.HasPrefix(lines[1], "demo") || !strings.Contains(lines[1], " ok ") {
		t.Errorf("status table:\n%s", out)
	}
	out, err = exec.Command(ossdBin, "status", "--json").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ossd is not running at") || !strings.Contains(string(out), "ossd serve") {
		t.Errorf("status without daemon: %v\n%s", err, out)
	}
	cmd := exec.Command(ossdBin, "status", "--json")
	cmd.Env = append(os.Environ(), "OSSD_SOCKET="+sock)
	if out, err = cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"name": "demo"`) {
		t.Errorf("status --json via OSSD_SOCKET: %v\n%s", err, out)
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\n[[role]]\nname = \"r\"\narn = \"acs:ram::1111111111111111:role/r\"\n"), 0o600)
	if out, err := exec.Command(ossdBin, "config", "check", good).CombinedOutput(); err != nil || !strings.Contains(string(out), "ok (1 roles: r)") {
		t.Errorf("config check good: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\nmax_qps = 500\n[[role]]\nname = \"r\"\narn = \"arn:x\"\n"), 0o600)
	out, err = exec.Command(ossdBin, "config", "check", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "sts.max_qps") || !strings.Contains(string(out), "role[0].arn") {
		t.Errorf("config check bad: %v\n%s", err, out)
	}
}

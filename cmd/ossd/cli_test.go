package main_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

// TestHelp: every subcommand's --help, -h and `ossd help CMD` print its
// usage, naming its flags, to stdout and exit 0.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		flags []string // each must be on the usage line and among the flags
	}{
		{[]string{"serve"}, []string{"--config", "--socket", "--dev"}},
		{[]string{"status"}, []string{"--socket", "--config", "--json", "--timeout"}},
		{[]string{"config", "check"}, nil},
		{[]string{"credential-process"}, []string{"--role", "--session", "--socket", "--timeout", "--direct", "--config"}},
		{[]string{"configure", "aliyun-cli"}, []string{"--profile", "--role", "--uri", "--socket"}},
		{[]string{"uri"}, []string{"--role", "--socket", "--config", "--timeout"}},
		{[]string{"presign"}, []string{"--role", "--method", "--expires", "--socket", "--timeout", "--json"}},
		{[]string{"exec"}, []string{"--role", "--session", "--env", "--override", "--socket"}},
		{[]string{"env"}, []string{"--role", "--session", "--format", "--socket"}},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			var outs []string
			for _, args := range [][]string{append(tc.args, "--help"), append(tc.args, "-h"), append([]string{"help"}, tc.args...)} {
				stdout, stderr, code := runBin(t, nil, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("ossd %v: exit %d, stderr %q", args, code, stderr)
				}
				outs = append(outs, stdout)
			}
			out := outs[0]
			if outs[1] != out || outs[2] != out {
				t.Errorf("--help, -h and help %s differ:\n%s\n---\n%s\n---\n%s", name, outs[0], outs[1], outs[2])
			}
			usage, _, _ := strings.Cut(out, "\n")
			if !strings.HasPrefix(usage, "usage: ossd "+tc.args[0]) {
				t.Errorf("first line = %q, want the usage of ossd %s", usage, name)
			}
			for _, f := range tc.flags {
				if !strings.Contains(usage, f) || !strings.Contains(out, "  -"+strings.TrimLeft(f, "-")) {
					t.Errorf("usage of %s lacks %s:\n%s", name, f, out)
				}
			}
		})
	}
	stdout, _, code := runBin(t, nil, "help")
	if code != 0 || !strings.Contains(stdout, "commands:") {
		t.Errorf("ossd help: exit %d\n%s", code, stdout)
	}
}

// config check --help is help, not a file called --help.
func TestConfigCheckHelpIsNotAFile(t *testing.T) {
	stdout, stderr, code := runBin(t, nil, "config", "check", "--help")
	if code != 0 || !strings.Contains(stdout, "usage: ossd config check FILE") || strings.Contains(stderr, "no such file") {
		t.Errorf("config check --help: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runBin(t, nil, "config", "check"); code != 2 || !strings.Contains(stderr, "usage: ossd config check FILE") {
		t.Errorf("config check without FILE: exit %d\n%s", code, stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--no-such-flag"},
		{"status", "extra"},
		{"presign", "--role", "r"},
		{"serve", "--dev", "--socket", "relative.sock"},
		{"uri"},
	} {
		_, stderr, code := runBin(t, nil, args...)
		if code != 2 || !strings.Contains(stderr, "usage: ossd "+args[0]) && !strings.Contains(stderr, "absolute") {
			t.Errorf("ossd %v: exit %d, want 2 with the usage\n%s", args, code, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-v"} {
		stdout, _, code := runBin(t, nil, arg)
		if code != 0 || !strings.HasPrefix(stdout, "ossd ") || !strings.Contains(stdout, runtime.Version()) || !strings.Contains(stdout, "(revision ") {
			t.Errorf("ossd %s: exit %d, %q", arg, code, stdout)
		}
	}
}

// Flags may follow the positional argument.
func TestPresignFlagsAfterArgument(t *testing.T) {
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	stdout, stderr, code := runBin(t, nil, "presign", "--role", "demo", "oss://ossd-demo/report.pdf", "--socket", sock, "--expires", "10m")
	if code != 0 || !strings.HasPrefix(stdout, "https://ossd-demo.oss-cn-hangzhou.aliyuncs.com/report.pdf?") {
		t.Errorf("presign with flags after the URL: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestStatusExitCodes: 0 when every role is served, 3 when the daemon
// answers but a role fails (named with its STS code), 1 when nothing
// listens (saying which setting chose the socket).
func TestStatusExitCodes(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	dir := t.TempDir()
	path := writeConfig(t, stsConfig(endpoint, readerAndBroken()))
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	if _, stderr, code := runBin(t, nil, "status", "--socket", sock); code != 3 {
		t.Errorf("status while roles are pending or failing: exit %d, want 3\n%s", code, stderr)
	}
	waitTried(t, sock)

	stdout, stderr, code := runBin(t, nil, "status", "--socket", sock)
	if code != 3 || !strings.Contains(stdout, "broken failing (EntityNotExist.Role)") || !strings.Contains(stderr, "not ready") {
		t.Errorf("status with a failing role: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runBin(t, nil, "status", "--socket", sock, "--live"); code != 0 || !strings.Contains(stdout, "live: ossd answers") {
		t.Errorf("status --live with a failing role: exit %d, want 0 (liveness is not readiness)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "last config load: ok (start") {
		t.Errorf("status does not show the last config load:\n%s", stdout)
	}
	stdout, _, code = runBin(t, nil, "status", "--socket", sock, "--json")
	var js struct {
		Readiness struct {
			Ready   bool `json:"ready"`
			Failing []struct{ Name, State, Code string }
		} `json:"readiness"`
	}
	if err := json.Unmarshal([]byte(stdout), &js); err != nil || code != 3 || js.Readiness.Ready ||
		len(js.Readiness.Failing) != 1 || js.Readiness.Failing[0].Code != "EntityNotExist.Role" {
		t.Errorf("status --json: exit %d, %v\n%s", code, err, stdout)
	}

	devSock := testenv.SocketPath(t)
	startDaemon(t, devSock, "serve", "--dev", "--socket", devSock)
	waitTried(t, devSock)
	if stdout, stderr, code := runBin(t, nil, "status", "--socket", devSock); code != 0 || !strings.Contains(stdout, "ready: every role can be served") {
		t.Errorf("status with every role ok: exit %d\n%s\n%s", code, stdout, stderr)
	}

	missing := filepath.Join(dir, "nobody.sock")
	_, stderr, code = runBin(t, []string{"OSSD_SOCKET=" + missing}, "status")
	if code != 1 || !strings.Contains(stderr, "ossd is not running at "+missing+" (socket chosen by $OSSD_SOCKET)") || !strings.Contains(stderr, "start it with") {
		t.Errorf("status without a daemon: exit %d\n%s", code, stderr)
	}
}

// TestStatusPermissionDenied: a user the socket's mode refuses is told so,
// with the socket's owner, group and mode, not told to start the daemon.
func TestStatusPermissionDenied(t *testing.T) {
	needs.Root(t, "to run the client as another user")
	dir := testenv.PublicDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	startDaemon(t, sock, "serve", "--dev", "--socket", sock) // 0600, owned by root
	bin := publicCopy(t, ossdBin, dir)
	cmd := exec.Command(bin, "status", "--socket", sock)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4261, Gid: 4261}}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("status as uid 4261: %v\n%s", err, out)
	}
	for _, want := range []string{"permission denied on " + sock, "owned by root, group root, mode 0600", "only root may use it"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "start it with") {
		t.Errorf("a permission problem is reported as a daemon not running:\n%s", out)
	}
}

// readerAndBroken returns a role reader the local STS knows and a role
// broken it does not (EntityNotExist.Role).
func readerAndBroken() string {
	return fmt.Sprintf("[[role]]\nname = \"reader\"\narn = %q\n[[role]]\nname = \"broken\"\narn = \"acs:ram::%s:role/no-such-role\"\n",
		testenv.Params("reader").RoleARN, testenv.Account)
}

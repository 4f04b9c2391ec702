package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
)

// execClient is the test binary as the command ossd exec runs: it GETs
// $ALIBABA_CLOUD_CREDENTIALS_URI and prints its pid, the URI, the status
// and the body, one per line.
func execClient() int {
	uri := os.Getenv("ALIBABA_CLOUD_CREDENTIALS_URI")
	fmt.Println(os.Getpid())
	fmt.Println(uri)
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get(uri)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode)
	fmt.Printf("%s\n", b)
	return 0
}

// execDaemon is a daemon with roles "reader" (open) and "guarded" (root
// only) and, unless noURI, the credentials-URI listener; its audit log is
// a file.
type execDaemon struct {
	*daemon
	sts       *localsts.Server
	sock, cfg string
	audit     string
}

// execOpts vary the daemon: no [uri] listener, extra config before it,
// and rules for "reader".
type execOpts struct {
	noURI       bool
	extra       string
	readerAllow string
}

func startExecDaemon(t *testing.T, o execOpts) *execDaemon {
	t.Helper()
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader", "guarded")
	dir := testenv.PublicDir(t)
	e := &execDaemon{sts: s, sock: filepath.Join(dir, "ossd.sock"), audit: filepath.Join(t.TempDir(), "audit.log")}
	uri := fmt.Sprintf("[uri]\nlisten = %q\nstate_dir = %q\n", freeAddr(t), filepath.Join(t.TempDir(), "state"))
	if o.noURI {
		uri = ""
	}
	cfg := stsConfig(endpoint, fmt.Sprintf(`
[audit]
file = %q
%s
%s
[[role]]
name = "reader"
arn = %q
%s
[[role]]
name = "guarded"
arn = %q
[role.allow]
uids = [0]
`, e.audit, o.extra, uri, testenv.Params("reader").RoleARN, o.readerAllow, testenv.Params("guarded").RoleARN))
	e.cfg = filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.daemon = startDaemon(t, e.sock, "serve", "--config", e.cfg, "--socket", e.sock)
	return e
}

func (e *execDaemon) auditLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// execRun is one `ossd exec` run.
type execRun struct {
	cmd            *exec.Cmd
	stdout, stderr *testenv.SyncBuffer
	done           chan struct{}
}

// startOssdExec starts `ossd exec --socket SOCK ARGS...` with the SDKs'
// variables cleared and env added.
func startOssdExec(t *testing.T, sock string, env []string, args ...string) *execRun {
	t.Helper()
	r := &execRun{stdout: new(testenv.SyncBuffer), stderr: new(testenv.SyncBuffer), done: make(chan struct{})}
	r.cmd = exec.Command(ossdBin, append([]string{"exec", "--socket", sock}, args...)...)
	r.cmd.Env = append(cleanEnv(), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	return r
}

// wait returns the run's exit status.
func (r *execRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ossd exec did not exit within 30 s\nstderr:\n%s", r.stderr)
	}
	return r.cmd.ProcessState.ExitCode()
}

// runOssdExec runs ossd exec to its end.
func runOssdExec(t *testing.T, sock string, env []string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	r := startOssdExec(t, sock, env, args...)
	status = r.wait(t)
	return status, r.stdout.String(), r.stderr.String()
}

// cleanEnv is the environment without the SDKs' variables and proxies.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if u := strings.ToUpper(k); strings.HasPrefix(u, "ALIBABA_CLOUD_") || strings.HasSuffix(u, "_PROXY") || u == "OSSD_SOCKET" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitLong waits up to 30 s for cond.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30 s waiting for %s", what)
		}
	}
}

// TestExecServesCommand: the command reads exactly the daemon's
// credentials from its URI; the issuance is audited with the command's
// pid; once ossd exec has returned, the URI answers 403.
func TestExecServesCommand(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	status, out, stderr := runOssdExec(t, e.sock, []string{"OSSD_TEST_EXEC_CLIENT=1"}, "--role", "reader", "--", os.Args[0])
	if status != 0 {
		t.Fatalf("ossd exec = %d\n%s\n%s", status, out, stderr)
	}
	lines := strings.SplitN(out, "\n", 4)
	if len(lines) < 4 || lines[2] != "200" {
		t.Fatalf("command printed %q", out)
	}
	pid, uri, body := lines[0], lines[1], strings.TrimSuffix(lines[3], "\n")
	if _, want := get(t, e.sock, "/v1/credentials/reader"); body != want {
		t.Errorf("the command read\n%s\nthe socket serves\n%s", body, want)
	}
	issued := e.sts.Issued()
	if len(issued) != 2 || !strings.Contains(body, issued[0].SecurityToken) && !strings.Contains(body, issued[1].SecurityToken) {
		t.Errorf("STS issued %d tokens; the command's is not among them", len(issued))
	}
	if status, body := httpGet(t, uri); status != 403 || !strings.Contains(body, `"Code":"ExecEnded"`) {
		t.Errorf("URI after ossd exec returned = %d %s, want 403 ExecEnded", status, body)
	}
	log := e.auditLog(t)
	for _, want := range []string{
		`"event":"exec","role":"reader","path":"socket"`,
		`"result":"ok","exec_pid":` + pid,
		`"path":"exec tcp ` + strings.TrimPrefix(uri, "http://")[:strings.Index(strings.TrimPrefix(uri, "http://"), "/")] + `","caller":{"identified":true,"uid":` + strconv.Itoa(os.Geteuid()),
		`"pid":` + pid + `,"exe":"` + mustExe(t) + `"`,
		`"event":"revoke"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s:\n%s", want, log)
		}
	}
	token := uri[strings.LastIndex(uri, "/")+1:]
	e.Stop(t)
	for _, text := range []string{e.Stderr.String(), log, stderr} {
		if strings.Contains(text, token) {
			t.Error("the exec token was logged")
		}
	}
}

func mustExe(t *testing.T) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p, _ = filepath.Abs(p)
	return p
}

func TestExecExitStatus(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"exit 7", []string{"sh", "-c", "exit 7"}, 7},
		{"success", []string{"true"}, 0},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9},
		{"not found", []string{"/nonexistent/cmd"}, 127},
		{"not executable", []string{e.cfg}, 126},
	}
	for _, tt := range tests {
		status, _, stderr := runOssdExec(t, e.sock, nil, append([]string{"--role", "reader", "--"}, tt.args...)...)
		if status != tt.want {
			t.Errorf("%s: status %d, want %d\n%s", tt.name, status, tt.want, stderr)
		}
	}
	if status, _, stderr := runOssdExec(t, e.sock, nil, "--role", "reader"); status != 2 || !strings.Contains(stderr, "no command") {
		t.Errorf("no command: %d %s", status, stderr)
	}
	if status, _, stderr := runOssdExec(t, e.sock, nil, "--role", "nope", "--", "true"); status != 1 || !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("unknown role: %d %s", status, stderr)
	}
}

// TestExecKilledRevokes: SIGKILL of ossd exec closes its registration, and
// the daemon revokes the URI though the command lives on.
func TestExecKilledRevokes(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	f := filepath.Join(t.TempDir(), "uri")
	r := startOssdExec(t, e.sock, nil, "--role", "reader", "--", "sh", "-c", `echo "$$ $ALIBABA_CLOUD_CREDENTIALS_URI" > `+f+`.tmp && mv `+f+`.tmp `+f+`; exec sleep 60`)
	pid, uri := commandStarted(t, f)
	defer syscall.Kill(pid, syscall.SIGKILL)
	if status, _ := httpGet(t, uri); status != 200 {
		t.Fatalf("URI while the command runs = %d", status)
	}
	r.cmd.Process.Kill()
	waitLong(t, "the URI to be revoked", func() bool { status, _ := httpGet(t, uri); return status == 403 })
	if syscall.Kill(pid, 0) != nil {
		t.Error("the command died with ossd exec; the test assumed it lives on")
	}
}

// commandStarted waits for the command to write "PID URI" to f.
func commandStarted(t *testing.T, f string) (pid int, uri string) {
	t.Helper()
	waitLong(t, "the command to start", func() bool {
		b, err := os.ReadFile(f)
		_, serr := fmt.Sscan(string(b), &pid, &uri)
		return err == nil && serr == nil
	})
	return pid, uri
}

// TestExecForwardsSignals: each signal sent to ossd exec reaches the
// command, and the command's own exit status comes back.
func TestExecForwardsSignals(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	f := filepath.Join(t.TempDir(), "got")
	sigs := []string{"INT", "HUP", "QUIT", "USR1", "USR2", "WINCH"}
	var script bytes.Buffer
	for _, s := range sigs {
		fmt.Fprintf(&script, "trap 'echo %s >> %s' %s\n", s, f, s)
	}
	fmt.Fprintf(&script, "trap 'echo TERM >> %s; exit 3' TERM\necho ready >> %s\nwhile :; do sleep 0.05; done\n", f, f)
	r := startOssdExec(t, e.sock, nil, "--role", "reader", "--", "sh", "-c", script.String())
	read := func() string { b, _ := os.ReadFile(f); return string(b) }
	waitLong(t, "the command's traps", func() bool { return strings.Contains(read(), "ready") })
	for _, name := range sigs {
		sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT,
			"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "WINCH": syscall.SIGWINCH}[name]
		r.cmd.Process.Signal(sig)
		waitLong(t, "SIG"+name+" to reach the command", func() bool { return strings.Contains(read(), name+"\n") })
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if status := r.wait(t); status != 3 {
		t.Errorf("status after SIGTERM = %d, want the command's 3\n%s", status, r.stderr)
	}
	if got := read(); !strings.Contains(got, "TERM") {
		t.Errorf("the command saw %q", got)
	}
}

// TestExecDaemonRestart: when the daemon restarts, ossd exec registers the
// same URI with the new one, so the command's URI answers again.
func TestExecDaemonRestart(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	f := filepath.Join(t.TempDir(), "uri")
	r := startOssdExec(t, e.sock, nil, "--role", "reader", "--", "sh", "-c", `echo "$$ $ALIBABA_CLOUD_CREDENTIALS_URI" > `+f+`.tmp && mv `+f+`.tmp `+f+`; exec sleep 60`)
	pid, uri := commandStarted(t, f)
	defer syscall.Kill(pid, syscall.SIGKILL)
	e.Stop(t)
	d2 := startDaemon(t, e.sock, "serve", "--config", e.cfg, "--socket", e.sock)
	waitLong(t, "ossd exec to register again", func() bool { return strings.Contains(r.stderr.String(), "the credentials URI is registered again") })
	if status, body := httpGet(t, uri); status != 200 || !strings.Contains(body, `"Code":"Success"`) {
		t.Errorf("URI after the restart = %d %s\nossd exec:\n%s\ndaemon:\n%s", status, body, r.stderr, d2.Stderr)
	}
	if !strings.Contains(r.stderr.String(), "the daemon is stopping") {
		t.Errorf("ossd exec did not say why:\n%s", r.stderr)
	}
}

// TestExecURIDisabled: without [uri] listen there is nowhere to serve the
// URI, and ossd exec says so.
func TestExecURIDisabled(t *testing.T) {
	e := startExecDaemon(t, execOpts{noURI: true})
	status, _, stderr := runOssdExec(t, e.sock, nil, "--role", "reader", "--", "true")
	if status != 1 || !strings.Contains(stderr, "URIDisabled") || !strings.Contains(stderr, "[uri] listen") {
		t.Errorf("ossd exec without [uri]: %d %s", status, stderr)
	}
}

// TestExecDev: `ossd serve --dev` has the credentials-URI listener, so
// ossd exec works against it, and its banner says how.
func TestExecDev(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	waitLong(t, "the dev banner", func() bool { return strings.Contains(d.Stdout.String(), " exec --role demo --socket "+sock+" -- CMD") })
	status, out, stderr := runOssdExec(t, sock, []string{"OSSD_TEST_EXEC_CLIENT=1"}, "--role", "demo", "--", os.Args[0])
	if lines := strings.SplitN(out, "\n", 4); status != 0 || len(lines) < 4 || lines[2] != "200" {
		t.Errorf("ossd exec against --dev: %d %s %s", status, out, stderr)
	}
}

package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// envOf parses `env` output.
func envOf(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// socketCreds returns what the socket serves for role.
func socketCreds(t *testing.T, sock, role string) (id, secret, token string) {
	t.Helper()
	status, body := get(t, sock, "/v1/credentials/"+role)
	var c struct{ AccessKeyId, AccessKeySecret, SecurityToken string }
	if err := json.Unmarshal([]byte(body), &c); status != 200 || err != nil {
		t.Fatalf("socket: %d %s", status, body)
	}
	return c.AccessKeyId, c.AccessKeySecret, c.SecurityToken
}

// TestExecEnvironment: variables that would shadow the URI are refused
// unless --override; the chain's own answers are turned off; --env adds the
// credentials themselves.
func TestExecEnvironment(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	ran := filepath.Join(t.TempDir(), "ran")
	for _, kv := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIuser", "ALIBABA_CLOUD_CREDENTIALS_URI=http://127.0.0.1:1/x", "ALIBABA_CLOUD_SECURITY_TOKEN=t", "ALIBABA_CLOUD_ROLE_ARN=acs:ram::1:role/r"} {
		k, _, _ := strings.Cut(kv, "=")
		status, _, stderr := runOssdExec(t, e.sock, []string{kv}, "--role", "reader", "--", "touch", ran)
		if status != 1 || !strings.Contains(stderr, k+" already set") || !strings.Contains(stderr, "--override") {
			t.Errorf("%s: status %d %s", k, status, stderr)
		}
		if _, err := os.Stat(ran); err == nil {
			t.Fatalf("%s: the command ran", k)
		}
	}

	status, out, stderr := runOssdExec(t, e.sock, []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIuser", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=false"},
		"--role", "reader", "--override", "--", "env")
	env := envOf(out)
	switch {
	case status != 0:
		t.Fatalf("--override: %d %s", status, stderr)
	case env["ALIBABA_CLOUD_ACCESS_KEY_ID"] != "":
		t.Errorf("--override kept ALIBABA_CLOUD_ACCESS_KEY_ID=%s", env["ALIBABA_CLOUD_ACCESS_KEY_ID"])
	case !strings.Contains(env["ALIBABA_CLOUD_CREDENTIALS_URI"], "/v1/exec/"):
		t.Errorf("URI = %q", env["ALIBABA_CLOUD_CREDENTIALS_URI"])
	case env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] != "false":
		t.Errorf("the user's ALIBABA_CLOUD_ECS_METADATA_DISABLED was replaced: %q", env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"])
	case env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] != "true":
		t.Errorf("ALIBABA_CLOUD_CLI_PROFILE_DISABLED = %q, want true", env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"])
	}

	// An empty variable shadows nothing: no refusal, and it is dropped.
	status, out, _ = runOssdExec(t, e.sock, []string{"ALIBABA_CLOUD_SECURITY_TOKEN="}, "--role", "reader", "--", "env")
	if env := envOf(out); status != 0 || env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] != "true" || strings.Contains(out, "ALIBABA_CLOUD_SECURITY_TOKEN=") {
		t.Errorf("empty variable: status %d\n%s", status, out)
	}

	status, out, stderr = runOssdExec(t, e.sock, nil, "--role", "reader", "--env", "--", "env")
	env = envOf(out)
	id, secret, token := socketCreds(t, e.sock, "reader")
	if status != 0 || env["ALIBABA_CLOUD_ACCESS_KEY_ID"] != id || env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] != secret || env["ALIBABA_CLOUD_SECURITY_TOKEN"] != token {
		t.Errorf("--env: status %d; the variables are not the daemon's credentials", status)
	}
	if !strings.Contains(stderr, "do not refresh") {
		t.Errorf("--env did not warn: %s", stderr)
	}
	if strings.Contains(stderr, secret) || strings.Contains(stderr, token) {
		t.Error("the warning holds a secret")
	}
}

// TestExecSession: --session serves its own STS session, warmed before the
// command starts.
func TestExecSession(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	status, out, stderr := runOssdExec(t, e.sock, []string{"OSSD_TEST_EXEC_CLIENT=1"}, "--role", "reader", "--session", "job-7", "--", os.Args[0])
	lines := strings.SplitN(out, "\n", 4)
	if status != 0 || len(lines) < 4 || lines[2] != "200" {
		t.Fatalf("ossd exec --session: %d %s %s", status, out, stderr)
	}
	var found bool
	for _, is := range e.sts.Issued() {
		if is.SessionName == "ossd-reader-job-7" && strings.Contains(lines[3], is.AccessKeyID) {
			found = true
		}
	}
	if !found {
		t.Errorf("the command did not read the ossd-reader-job-7 session's token")
	}
	if status, _, stderr := runOssdExec(t, e.sock, nil, "--role", "reader", "--session", "a b", "--", "true"); status != 1 || !strings.Contains(stderr, "BadRequest") {
		t.Errorf("bad session: %d %s", status, stderr)
	}
}

// ossdEnv runs `ossd env` and returns its status, stdout and stderr.
func ossdEnv(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(ossdBin, append([]string{"env"}, args...)...)
	cmd.Env = cleanEnv()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestEnvFormats: each format, read back the way its consumer reads it,
// gives the daemon's credentials; json is the credential-process body.
func TestEnvFormats(t *testing.T) {
	e := startExecDaemon(t, execOpts{})
	id, secret, token := socketCreds(t, e.sock, "reader")
	const print = `printf '%s\n%s\n%s\n' "$ALIBABA_CLOUD_ACCESS_KEY_ID" "$ALIBABA_CLOUD_ACCESS_KEY_SECRET" "$ALIBABA_CLOUD_SECURITY_TOKEN"`
	want := id + "\n" + secret + "\n" + token + "\n"
	shells := map[string]string{"sh": "sh", "fish": "fish"}
	for format, shell := range shells {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("%s not installed: format %s is checked by internal/envfmt's rules", shell, format)
			continue
		}
		status, out, stderr := ossdEnv(t, "--role", "reader", "--socket", e.sock, "--format", format)
		if status != 0 {
			t.Fatalf("%s: %d %s", format, status, stderr)
		}
		got, err := exec.Command(shell, "-c", out+print).Output()
		if err != nil || string(got) != want {
			t.Errorf("%s: evaluated output does not give the daemon's credentials (%v)", format, err)
		}
	}
	_, out, _ := ossdEnv(t, "--role", "reader", "--socket", e.sock, "--format", "dotenv")
	if env := envOf(out); env["ALIBABA_CLOUD_ACCESS_KEY_ID"] != id || env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] != secret || env["ALIBABA_CLOUD_SECURITY_TOKEN"] != token {
		t.Errorf("dotenv lines are not the daemon's credentials:\n%d bytes", len(out))
	}
	_, js, _ := ossdEnv(t, "--role", "reader", "--socket", e.sock, "--format", "json")
	cp := exec.Command(ossdBin, "credential-process", "--role", "reader", "--socket", e.sock)
	cp.Env = cleanEnv()
	if want, err := cp.Output(); err != nil || js != string(want) {
		t.Errorf("json = %s\ncredential-process = %s (%v)", js, want, err)
	}
	if status, _, stderr := ossdEnv(t, "--role", "reader", "--socket", e.sock, "--format", "csh"); status != 2 || !strings.Contains(stderr, "sh, fish, dotenv or json") {
		t.Errorf("--format csh: %d %s", status, stderr)
	}
	if status, _, _ := ossdEnv(t, "--socket", e.sock); status != 2 {
		t.Errorf("no --role: %d, want 2", status)
	}
}

// TestExecOtherUser: the URI is a bearer capability, but the role's rules
// still judge whoever presents it. Another uid holding the URI of a role
// restricted to root is refused; holding that of a role its rules allow
// it, it is served. Another uid cannot register the restricted role
// either.
func TestExecOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as another user")
	}
	// Every role needs rules for a socket others may connect to; "reader"
	// allows uid 4901 too.
	e := startExecDaemon(t, execOpts{extra: "[server]\nsocket_mode = \"0666\"\n", readerAllow: "[role.allow]\nuids = [0, 4901]\n"})
	dir := filepath.Dir(e.sock)
	client := publicCopy(t, os.Args[0], dir)
	uris := map[string]string{}
	for _, role := range []string{"guarded", "reader"} {
		f := filepath.Join(t.TempDir(), role)
		startOssdExec(t, e.sock, nil, "--role", role, "--", "sh", "-c", `echo "$$ $ALIBABA_CLOUD_CREDENTIALS_URI" > `+f+`.tmp && mv `+f+`.tmp `+f+`; exec sleep 60`)
		pid, uri := commandStarted(t, f)
		defer syscall.Kill(pid, syscall.SIGKILL)
		uris[role] = uri
	}
	if out := asUser(t, client, 4901, uris["guarded"], ""); !strings.HasPrefix(out, "403 ") || !strings.Contains(out, `"Code":"AccessDenied"`) || strings.Contains(out, "SecurityToken") {
		t.Errorf("uid 4901 with the guarded URI got %s", out)
	}
	if out := asUser(t, client, 4901, uris["reader"], ""); !strings.HasPrefix(out, "200 ") || !strings.Contains(out, `"Code":"Success"`) {
		t.Errorf("uid 4901 with the URI of a role it may have got %s", out)
	}
	if status, _ := httpGet(t, uris["guarded"]); status != 200 {
		t.Errorf("root with the guarded URI: %d", status)
	}
	if log := e.auditLog(t); !strings.Contains(log, `"event":"deny","role":"guarded","path":"exec tcp `) || !strings.Contains(log, `"uid":4901`) {
		t.Errorf("the refusal is not audited:\n%s", log)
	}

	bin := publicCopy(t, ossdBin, dir)
	cmd := exec.Command(bin, "exec", "--socket", e.sock, "--role", "guarded", "--", "true")
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4901, Gid: 4901}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AccessDenied") {
		t.Errorf("uid 4901 registered the guarded role: %v %s", err, out)
	}
}

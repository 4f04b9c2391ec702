package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// exeFixture is a daemon whose role "reader" is restricted to uid 4601
// running allowedExe, served on the socket and on a loopback metadata
// listener, with its audit log in a file.
type exeFixture struct {
	sock, md, audit string
	app, evil       string // the allowed program, and another file with the same code
}

func startExeDaemon(t *testing.T, allowExtra string) *exeFixture {
	t.Helper()
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	dir := testenv.PublicDir(t)
	f := &exeFixture{sock: filepath.Join(dir, "ossd.sock"), md: freeAddr(t), audit: filepath.Join(t.TempDir(), "audit.log")}
	f.app = publicCopy(t, os.Args[0], dir)
	f.evil = filepath.Join(dir, "evil")
	b, err := os.ReadFile(f.app)
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's program: another file (the same code, one more byte).
	if err := os.WriteFile(f.evil, append(b, '\n'), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret = %q
[sts]
region = "cn-hangzhou"
endpoint = %q
[server]
socket_mode = "0666"
[audit]
file = %q
[[metadata]]
listen = %q
role = "reader"
[[role]]
name = "reader"
arn = %q
[role.allow]
uids = [4601]
exe = [%q]
%s
`, testenv.KeyID, testenv.KeySecret, endpoint, f.audit, f.md, testenv.Params("reader").RoleARN, f.app, allowExtra)
	path := filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, f.sock, "serve", "--config", path, "--socket", f.sock)
	return f
}

// run runs argv as uid 4601 asking for reader over the socket (tcp false)
// or the metadata listener, and returns what the client printed.
func (f *exeFixture) run(t *testing.T, tcp bool, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if tcp {
		cmd.Env = append(os.Environ(), "OSSD_TEST_GET_URL=http://"+f.md+"/latest/meta-data/ram/security-credentials/reader")
	} else {
		cmd.Env = append(os.Environ(), "OSSD_TEST_GET_SOCKET="+f.sock, "OSSD_TEST_GET_PATH=/v1/credentials/reader")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4601, Gid: 4601}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v as uid 4601: %v\n%s", argv, err, out)
	}
	return string(out)
}

// bindExec is the attack of issue 12 point 6: a private user and mount
// namespace (`unshare -rm`), the attacker's file bind-mounted over the
// allowed path, then exec of the allowed path.
func (f *exeFixture) bindExec() []string {
	return []string{"unshare", "-rm", "--", "/bin/sh", "-c", `mount --bind "$1" "$2" && exec "$2"`, "sh", f.evil, f.app}
}

// unshareExec runs the allowed program itself, unchanged, in a private
// user and mount namespace.
func (f *exeFixture) unshareExec() []string {
	return []string{"unshare", "-rm", "--", f.app}
}

func needUnshare(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) from util-linux (.ci/run installs it)")
	}
	if out, err := exec.Command("unshare", "-rm", "true").CombinedOutput(); err != nil {
		t.Skipf("user namespaces unavailable: %v %s", err, out)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// denyLines returns the audit log's denials.
func denyLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `"event":"deny"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestExeRuleBindMount: uid 4601 may have reader only through the allowed
// program. In a private mount namespace it bind-mounts another program over
// that path and execs it: the kernel then reports the allowed path as the
// executable. ossd must refuse on the socket and on loopback TCP, and the
// audit line must name the real file and the namespace.
func TestExeRuleBindMount(t *testing.T) {
	needUnshare(t)
	f := startExeDaemon(t, "")
	for _, tcp := range []bool{false, true} {
		if out := f.run(t, tcp, f.app); !strings.HasPrefix(out, "200 ") {
			t.Errorf("allowed program (tcp %v) got %.60s", tcp, out)
		}
		if out := f.run(t, tcp, f.bindExec()...); !strings.HasPrefix(out, "403 ") || strings.Contains(out, "SecurityToken") {
			t.Errorf("bind-mounted program (tcp %v) got %.60s", tcp, out)
		}
	}
	lines := denyLines(t, f.audit)
	if len(lines) != 2 {
		t.Fatalf("%d deny lines, want 2 (socket, tcp):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	evil := fmt.Sprintf(":%d", inode(t, f.evil))
	for _, l := range lines {
		if !strings.Contains(l, "namespace") || !strings.Contains(l, evil+`"`) {
			t.Errorf("deny line does not name the namespace and the real file (ino %s): %s", evil, l)
		}
	}
}

// TestExeRuleForeignNamespaces: by default a caller in another namespace
// is refused an exe rule even when it runs the allowed file itself; with
// foreign_namespaces = true it is allowed, and the bind mount still fails,
// because the file is not the one at the allowed path.
func TestExeRuleForeignNamespaces(t *testing.T) {
	needUnshare(t)
	strict := startExeDaemon(t, "")
	loose := startExeDaemon(t, "foreign_namespaces = true")
	for _, tcp := range []bool{false, true} {
		if out := strict.run(t, tcp, strict.unshareExec()...); !strings.HasPrefix(out, "403 ") {
			t.Errorf("allowed program in a private namespace, default rule (tcp %v) got %.60s", tcp, out)
		}
		if out := loose.run(t, tcp, loose.unshareExec()...); !strings.HasPrefix(out, "200 ") {
			t.Errorf("allowed program in a private namespace, foreign_namespaces (tcp %v) got %.60s", tcp, out)
		}
		if out := loose.run(t, tcp, loose.bindExec()...); !strings.HasPrefix(out, "403 ") || strings.Contains(out, "SecurityToken") {
			t.Errorf("bind-mounted program, foreign_namespaces (tcp %v) got %.60s", tcp, out)
		}
	}
	for _, l := range denyLines(t, strict.audit) {
		if !strings.Contains(l, `"ns":"mnt,user"`) || !strings.Contains(l, "allow.foreign_namespaces is not set") {
			t.Errorf("default rule's deny line: %s", l)
		}
	}
	lines := denyLines(t, loose.audit)
	evil := fmt.Sprintf(":%d\"", inode(t, loose.evil))
	for _, l := range lines {
		if !strings.Contains(l, "is not the file at that path") || !strings.Contains(l, evil) {
			t.Errorf("foreign_namespaces deny line does not name the real file (ino %s): %s", evil, l)
		}
	}
	if len(lines) != 2 {
		t.Errorf("%d deny lines with foreign_namespaces, want 2", len(lines))
	}
}

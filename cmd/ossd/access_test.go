package main_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

// clientGet is the test binary acting as a client: GET path on the socket,
// print the status and body.
func clientGet(sock, path string) int {
	return printGet(testenv.UnixClient(sock), "http://localhost"+path)
}

// clientGetURL is clientGet over TCP.
func clientGetURL(url string) int { return printGet(http.DefaultClient, url) }

func printGet(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, b)
	return 0
}

// publicCopy copies a binary where other users may run it.
func publicCopy(t *testing.T, bin, dir string) string {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(bin))
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// asUser runs the test binary as uid to GET path from the daemon: over the
// socket, or from a URL when sock starts with http://.
func asUser(t *testing.T, client string, uid uint32, sock, path string) string {
	t.Helper()
	cmd := exec.Command(client)
	if strings.HasPrefix(sock, "http://") {
		cmd.Env = append(os.Environ(), "OSSD_TEST_GET_URL="+sock+path)
	} else {
		cmd.Env = append(os.Environ(), "OSSD_TEST_GET_SOCKET="+sock, "OSSD_TEST_GET_PATH="+path)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client as uid %d: %v\n%s", uid, err, out)
	}
	return string(out)
}

// TestTwoUsers: uid 4242 may have role reader, uid 4343 may not. Both call
// the same daemon over the same socket.
func TestTwoUsers(t *testing.T) {
	needs.Root(t, "to run clients as other users")
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader")
	dir := testenv.PublicDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	mdAddr := freeAddr(t)
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
[[metadata]]
listen = %q
role = "reader"
[[role]]
name = "reader"
arn = %q
[role.allow]
uids = [4242]
`, testenv.KeyID, testenv.KeySecret, endpoint, mdAddr, testenv.Params("reader").RoleARN)
	path := filepath.Join(t.TempDir(), "ossd.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	client := publicCopy(t, os.Args[0], dir)

	if out := asUser(t, client, 4242, sock, "/v1/credentials/reader"); !strings.HasPrefix(out, "200 ") || !strings.Contains(out, s.Issued()[0].SecurityToken) {
		t.Errorf("allowed user got %s", out)
	}
	denied := asUser(t, client, 4343, sock, "/v1/credentials/reader")
	if !strings.HasPrefix(denied, "403 ") || !strings.Contains(denied, `"Code":"AccessDenied"`) || !strings.Contains(denied, "uid=4343") {
		t.Errorf("other user got %s", denied)
	}
	missing := asUser(t, client, 4343, sock, "/v1/credentials/nosuch")
	pid := regexp.MustCompile(`pid=\d+`)
	if pid.ReplaceAllString(strings.ReplaceAll(missing, "nosuch", "reader"), "") != pid.ReplaceAllString(denied, "") {
		t.Errorf("a missing role and a forbidden one are told apart:\n%s\n%s", missing, denied)
	}
	if out := asUser(t, client, 4343, sock, "/v1/roles"); strings.Contains(out, "reader") {
		t.Errorf("/v1/roles shows a forbidden role: %s", out)
	}
	if out := asUser(t, client, 4242, sock, "/v1/roles"); !strings.Contains(out, `"name": "reader"`) {
		t.Errorf("/v1/roles hides an allowed role: %s", out)
	}

	// The same rule on the loopback metadata endpoint.
	md := "http://" + mdAddr
	const credPath = "/latest/meta-data/ram/security-credentials/reader"
	if out := asUser(t, client, 4242, md, credPath); !strings.HasPrefix(out, "200 ") || !strings.Contains(out, `"Code":"Success"`) {
		t.Errorf("allowed user over metadata got %s", out)
	}
	if out := asUser(t, client, 4343, md, credPath); !strings.HasPrefix(out, "403 ") || !strings.Contains(out, `"Code":"AccessDenied"`) || strings.Contains(out, "SecurityToken") {
		t.Errorf("other user over metadata got %s", out)
	}
	for _, id := range s.Issued() {
		if strings.Contains(d.Stderr.String(), id.SecurityToken) || strings.Contains(denied, id.SecurityToken) {
			t.Error("a secret leaked into the log or a denial")
		}
	}
}

// TestNotDumpable runs the daemon as an unprivileged user and checks that
// another process of that same user cannot read its environment or memory.
func TestNotDumpable(t *testing.T) {
	needs.Root(t, "to run the daemon as another user")
	dir := testenv.PublicDir(t)
	os.Chown(dir, 4242, 4242)
	bin := publicCopy(t, ossdBin, dir)
	sock := filepath.Join(dir, "run", "ossd.sock")
	cmd := exec.Command(bin, "serve", "--dev", "--socket", sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4242, Gid: 4242}}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "OSSD_TEST_MARKER=1"}
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	for _, f := range []string{"environ", "mem"} {
		reader := exec.Command("cat", fmt.Sprintf("/proc/%d/%s", cmd.Process.Pid, f))
		reader.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4242, Gid: 4242}}
		if out, err := reader.CombinedOutput(); err == nil || strings.Contains(string(out), "OSSD_TEST_MARKER") {
			t.Errorf("same-user process read /proc/%d/%s: err=%v", cmd.Process.Pid, f, err)
		}
	}
	limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if !strings.Contains(string(limits), "Max core file size        0                    0") {
		t.Errorf("core files not disabled:\n%s", limits)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

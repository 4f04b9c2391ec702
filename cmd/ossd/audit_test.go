package main_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// daemonConfig writes a config for roles (each a name, then the extra
// lines of its [[role]]) against the local STS at endpoint, with extra
// sections, and returns its path.
func daemonConfig(t *testing.T, endpoint, extra string, roles ...string) string {
	t.Helper()
	cfg := stsConfig(endpoint, extra+"\n")
	for _, r := range roles {
		name, rest, _ := strings.Cut(r, "\n")
		cfg += fmt.Sprintf("[[role]]\nname = %q\narn = %q\n%s\n", name, testenv.Params(name).RoleARN, rest)
	}
	return writeConfig(t, cfg)
}

// TestMetricsHideRoleNames: /metrics listens on loopback TCP, which every
// local user can reach. By default it must not name any configured role,
// whatever the roles went through; the socket API takes care to hide from
// each caller the roles it may not have.
func TestMetricsHideRoleNames(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	roles := []string{"payroll-exporter", "hr-backup-7"}
	_, endpoint := testenv.StartSTS(t, roles...)
	addr := freeAddr(t)
	path := daemonConfig(t, endpoint, fmt.Sprintf("[metrics]\nlisten = %q\n", addr),
		roles[0], roles[1]+"\n[role.allow]\nuids = [4242424]\n")
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	for _, p := range []string{"/v1/credentials/" + roles[0], "/v1/credentials/" + roles[1], "/v1/credentials/" + roles[0] + "?session=job", "/v1/credentials/nosuch"} {
		get(t, sock, p)
	}
	status, body := httpGet(t, "http://"+addr+"/metrics")
	if status != 200 || !strings.Contains(body, "ossd_credentials_expiry_seconds ") {
		t.Fatalf("GET /metrics = %d:\n%s", status, body)
	}
	for _, r := range roles {
		if strings.Contains(body, r) {
			t.Errorf("/metrics names role %q to every local user:\n%s", r, body)
		}
	}
	if !strings.Contains(body, "ossd_audit_ok 1") {
		t.Errorf("/metrics lacks ossd_audit_ok 1:\n%s", body)
	}
}

// TestMetricsRoleLabels: role_labels = true restores the per-role series.
func TestMetricsRoleLabels(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	addr := freeAddr(t)
	path := daemonConfig(t, endpoint, fmt.Sprintf("[metrics]\nlisten = %q\nrole_labels = true\n", addr), "reader")
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	if _, body := httpGet(t, "http://"+addr+"/metrics"); !strings.Contains(body, `ossd_credentials_expiry_seconds{role="reader"}`) {
		t.Errorf("role_labels = true: no per-role expiry series:\n%s", body)
	}
}

// fullDisk mounts a tiny tmpfs and fills it, and returns the path of an
// empty file on it that cannot grow, and a function that frees the disk.
func fullDisk(t *testing.T) (path string, free func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs and fill it")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=16k,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	path = filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	return path, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}
}

// ossdStatus runs ossd status on sock and returns its output.
func ossdStatus(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, err := exec.Command(ossdBin, append([]string{"status", "--socket", sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ossd status: %v\n%s", err, out)
	}
	return string(out)
}

// TestAuditDiskFull: with the audit log on a full disk, the daemon hands
// out no credentials (503 AuditFailed), and says so in ossd status and
// /metrics; once the disk has room it serves again, and the issuance is
// in the log.
func TestAuditDiskFull(t *testing.T) {
	auditPath, free := fullDisk(t)
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	addr := freeAddr(t)
	path := daemonConfig(t, endpoint, fmt.Sprintf("[audit]\nfile = %q\n[metrics]\nlisten = %q\n", auditPath, addr), "reader")
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)

	status, body := get(t, sock, "/v1/credentials/reader")
	if status != 503 || !strings.Contains(body, `"Code":"AuditFailed"`) || strings.Contains(body, "AccessKeyId") {
		t.Errorf("with the audit log's disk full: %d %s, want 503 AuditFailed and no credentials", status, body)
	}
	if out := ossdStatus(t, sock); !strings.Contains(out, "AUDIT LOG FAILING") {
		t.Errorf("ossd status does not say the audit log fails:\n%s", out)
	}
	if out := ossdStatus(t, sock, "--json"); !strings.Contains(out, `"audit": "failing"`) {
		t.Errorf("ossd status --json lacks audit failing:\n%s", out)
	}
	if _, m := httpGet(t, "http://"+addr+"/metrics"); !strings.Contains(m, "ossd_audit_ok 0") || !strings.Contains(m, "ossd_audit_write_failures_total 1") {
		t.Errorf("/metrics does not show the failure:\n%s", m)
	}
	if !strings.Contains(d.Stderr.String(), "audit log cannot be written") {
		t.Errorf("no ERROR in the daemon's log:\n%s", d.Stderr)
	}

	free()
	if status, body := get(t, sock, "/v1/credentials/reader"); status != 200 {
		t.Errorf("with room again: %d %s", status, body)
	}
	if out := ossdStatus(t, sock); strings.Contains(out, "AUDIT") {
		t.Errorf("ossd status still says the audit log fails:\n%s", out)
	}
	b, err := os.ReadFile(auditPath)
	if err != nil || !strings.Contains(string(b), `"event":"issue"`) {
		t.Errorf("audit log after recovery: %v\n%s", err, b)
	}
}

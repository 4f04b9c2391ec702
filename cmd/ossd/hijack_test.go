package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// Issue 12, point 1: in each layout another user could swap the socket for
// his listener. The daemon refuses to start, naming the directory, its
// owner and mode, and creates no socket.
func TestServeRefusesHijackableSocketDir(t *testing.T) {
	for _, l := range testenv.HijackLayouts(t) {
		t.Run(l.Name, func(t *testing.T) {
			_, stderr, code := runOssd(t, "serve", "--dev", "--socket", l.Socket)
			if code != 1 || !strings.Contains(stderr, "listen "+l.Socket+": refusing the socket directory: "+l.Culprit+" "+l.Want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a refusal naming %s", code, stderr, l.Culprit)
			}
			if _, err := os.Lstat(l.Socket); err == nil {
				t.Errorf("a socket was created at %s", l.Socket)
			}
		})
	}
}

// Issue 12, point 5: another user plants a link at the audit path to a
// file only root may write. The daemon refuses to start and the file is
// unchanged.
func TestServeRefusesPlantedAuditLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is another user's link followed by a root daemon")
	}
	target := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(target, []byte("root only\n"), 0o600)
	dir := testenv.PublicDir(t)
	os.Chown(dir, testenv.Attacker, testenv.Attacker)
	audit := filepath.Join(dir, "audit.log")
	os.Symlink(target, audit)
	os.Lchown(audit, testenv.Attacker, testenv.Attacker)
	_, endpoint := testenv.StartSTS(t, "reader")
	cfg := filepath.Join(t.TempDir(), "ossd.toml")
	os.WriteFile(cfg, []byte(`
[source]
type = "access_key"
access_key_id = "`+testenv.KeyID+`"
access_key_secret = "`+testenv.KeySecret+`"
[sts]
region = "cn-hangzhou"
endpoint = "`+endpoint+`"
[audit]
file = "`+audit+`"
[[role]]
name = "reader"
arn = "`+testenv.Params("reader").RoleARN+`"
`), 0o600)
	sock := testenv.SocketPath(t)
	_, stderr, code := runOssd(t, "serve", "--config", cfg, "--socket", sock)
	if code != 1 || !strings.Contains(stderr, "open audit log "+audit+": "+dir+" (owner uid 4701, mode 0755) is not owned by root") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a refusal naming %s", code, stderr, dir)
	}
	if b, _ := os.ReadFile(target); string(b) != "root only\n" {
		t.Errorf("target = %q: the daemon wrote through the link", b)
	}
}

// Issue 12, point 1: the attacker, uid 4701, listens at the victim's socket
// path. Every client command refuses it before sending anything (exit 3,
// none of his answer printed), unless told that uid 4701 is the daemon.
func TestClientsRefuseHijackedSocket(t *testing.T) {
	for _, l := range testenv.HijackLayouts(t) {
		t.Run(l.Name, func(t *testing.T) {
			testenv.StartAttacker(t, l)
			t.Setenv("OSSD_SOCKET", l.Socket)
			sock := "--socket=" + l.Socket
			for _, args := range [][]string{
				{"credential-process", "--role", "reader", sock},
				{"status", sock},
				{"presign", "--role", "reader", sock, "oss://bucket/key"},
				{"uri", "--role", "reader", sock},
				{"exec", "--role", "reader", sock, "--", "true"},
				{"env", "--role", "reader", sock},
				{"credential-process", "--role", "reader"}, // found through $OSSD_SOCKET
			} {
				stdout, stderr, code := runOssd(t, args...)
				if code != 3 || !strings.Contains(stderr, "socket "+l.Socket+" is served by uid 4701, not root: refusing") ||
					strings.Contains(stdout+stderr, testenv.AttackerMarker) {
					t.Errorf("ossd %s: exit %d\nstdout: %s\nstderr: %s\nwant exit 3 and a refusal", strings.Join(args, " "), code, stdout, stderr)
				}
			}
			t.Setenv("OSSD_DAEMON_UID", "4701")
			stdout, _, code := runOssd(t, "credential-process", "--role", "reader", sock)
			if code != 0 || !strings.Contains(stdout, testenv.AttackerMarker) {
				t.Errorf("with OSSD_DAEMON_UID=4701: exit %d, stdout %s; want the listener's answer", code, stdout)
			}
		})
	}
}

func TestDaemonUIDFlagErrors(t *testing.T) {
	_, stderr, code := runOssd(t, "status", "--daemon-uid", "ossd", "--socket", testenv.SocketPath(t))
	if code != 2 || !strings.Contains(stderr, `--daemon-uid "ossd": want a numeric uid`) {
		t.Errorf("exit %d, stderr %s; want a usage error", code, stderr)
	}
}

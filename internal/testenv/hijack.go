package testenv

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Attacker is the uid of the other local user in hijack tests. It needs no
// /etc/passwd entry.
const Attacker = 4701

// AttackerMarker is in every credential and URL the attacker's listener
// hands out.
const AttackerMarker = "ATTACKER"

// Layout is a placement of the daemon's socket that another local user can
// take over (issue 12, point 1).
type Layout struct {
	Name    string
	Socket  string // where the daemon's socket goes
	Culprit string // the directory the daemon must name when it refuses
	Want    string // what the refusal must say about it
	Rename  bool   // the attacker renames the socket's directory away first
}

// HijackLayouts builds the four layouts under a fresh directory in /tmp,
// removed at cleanup: a parent directory the attacker owns (0755), a
// root-owned 0777 parent without the sticky bit, a parent that is a
// symbolic link into the attacker's directory, and an attacker-owned
// grandparent above the daemon's own 0700 directory. It skips the test when
// not root.
func HijackLayouts(t testing.TB) []Layout {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make directories owned by another uid")
	}
	base := PublicDir(t)
	mk := func(rel string, mode fs.FileMode, uid int) string {
		p := filepath.Join(base, rel)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	owned := mk("owned", 0o755, Attacker)
	open := mk("open", 0o777, 0)
	evil := mk("evil", 0o755, Attacker)
	link := filepath.Join(base, "link")
	if err := os.Symlink(evil, link); err != nil {
		t.Fatal(err)
	}
	gp := mk("gp", 0o755, Attacker)
	mk("gp/ossd", 0o700, 0)
	return []Layout{
		{Name: "parent owned by another user", Socket: owned + "/ossd.sock", Culprit: owned, Want: "(owner uid 4701, mode 0755) is not owned by root"},
		{Name: "root-owned 0777 parent without sticky bit", Socket: open + "/ossd.sock", Culprit: open, Want: "(owner uid 0 (root), mode 0777) is writable by group or others"},
		{Name: "parent is a symbolic link into the attacker's directory", Socket: link + "/ossd.sock", Culprit: link, Want: "(owner uid 0 (root), mode 0777) is a symbolic link to " + evil},
		{Name: "grandparent owned by another user", Socket: gp + "/ossd/ossd.sock", Culprit: gp, Want: "(owner uid 4701, mode 0755) is not owned by root", Rename: true},
	}
}

// PublicDir makes a directory under /tmp that every user may enter,
// removed at cleanup.
func PublicDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "ossd-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// StartAttacker runs the attacker's listener as uid [Attacker] at l.Socket
// and returns once it listens; it is stopped at cleanup. Its credentials
// and URLs carry [AttackerMarker].
func StartAttacker(t testing.TB, l Layout) {
	t.Helper()
	dir := PublicDir(t)
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, "fakedaemon")
	build := exec.Command("go", "build", "-o", bin, "./fakedaemon")
	build.Dir = filepath.Dir(file)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fakedaemon: %v\n%s", err, out)
	}
	args := []string{"--socket", l.Socket}
	if l.Rename {
		args = append(args, "--rename")
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Attacker, Gid: Attacker}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "listening" {
		cmd.Process.Kill()
		t.Fatalf("attacker's listener did not start: %v; stderr: %s", err, stderr.String())
	}
}

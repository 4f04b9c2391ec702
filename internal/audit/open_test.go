package audit_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/safepath"
	"github.com/ossd/ossd/internal/testenv"
)

// precious is a file only root may write, which the attacker wants the
// daemon to write to for him.
func precious(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(p, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func unchanged(t *testing.T, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != "root only\n" {
		t.Errorf("%s = %q, %v: the daemon wrote to it", path, b, err)
	}
}

func wantRefusal(t *testing.T, path, want string) {
	t.Helper()
	l, closer, err := audit.Open(path, nil, nil)
	if err == nil {
		l.Log(audit.Event{Kind: audit.KindDeny, Role: "reader", Result: "AccessDenied"}) // what the daemon would write
		closer.Close()
		t.Errorf("Open(%s) accepted it, want a refusal saying %q", path, want)
		return
	}
	if !errors.Is(err, safepath.ErrUnsafe) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open(%s) = %v, want a refusal saying %q", path, err, want)
	}
}

// Issue 12, point 5: another user plants a link at the audit path to a file
// only root may write, and a root daemon appends to it. Each layout the
// attacker can write in is refused, and the file is unchanged.
func TestOpenRefusesPlantedLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is another user's link followed by a root daemon")
	}
	for _, l := range testenv.HijackLayouts(t) {
		t.Run(l.Name, func(t *testing.T) {
			target := precious(t)
			dir := filepath.Dir(l.Socket)
			if l.Rename {
				dir = l.Culprit // the attacker can plant only in what he may write to
			}
			path := filepath.Join(dir, "audit.log")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			os.Lchown(path, testenv.Attacker, testenv.Attacker)
			wantRefusal(t, path, "is ")
			unchanged(t, target)
		})
	}
	t.Run("sticky directory like /tmp", func(t *testing.T) {
		target := precious(t)
		dir := testenv.PublicDir(t)
		os.Chmod(dir, fs.ModeSticky|0o777)
		path := filepath.Join(dir, "audit.log")
		os.Symlink(target, path)
		os.Lchown(path, testenv.Attacker, testenv.Attacker)
		wantRefusal(t, path, path+" (owner uid 4701, mode 0777) is a symbolic link to "+target)
		unchanged(t, target)
	})
}

// A link in the daemon's own directory is not followed either, whoever made
// it: O_NOFOLLOW, not the kernel's protected_symlinks, is what stops it.
func TestOpenRefusesLink(t *testing.T) {
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, []byte("root only\n"), 0o600)
	path := filepath.Join(t.TempDir(), "audit.log")
	os.Symlink(target, path)
	wantRefusal(t, path, "is a symbolic link to "+target)
	unchanged(t, target)
}

func TestOpenRefusesReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte("old\n"), 0o600)
	os.Chmod(path, 0o644)
	wantRefusal(t, path, "(owner uid ")
	wantRefusal(t, path, "mode 0644) has permission bits for group or others: chmod 600 "+path)
}

func TestOpenRefusesForeignFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file owned by another uid")
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte("old\n"), 0o600)
	os.Chown(path, testenv.Attacker, testenv.Attacker)
	wantRefusal(t, path, path+" (owner uid 4701, mode 0600) is not owned by root (ossd's own uid)")
}

func TestOpenRefusesRelativePath(t *testing.T) {
	if _, _, err := audit.Open("audit.log", nil, nil); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("Open(relative) = %v, want a refusal", err)
	}
}

package safepath_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/safepath"
)

// attacker is the uid of the other local user in these tests.
const attacker = 4701

// tree returns a Checker rooted at a fresh directory of this test, trusting
// this process's uid, and that directory.
func tree(t *testing.T) (safepath.Checker, string) {
	t.Helper()
	root := t.TempDir()
	return safepath.Checker{UID: uint32(os.Geteuid()), Root: root}, root
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files owned by another uid")
	}
}

// wantUnsafe fails unless err is an *UnsafeError about path that says want.
func wantUnsafe(t *testing.T, err error, path, want string) {
	t.Helper()
	var u *safepath.UnsafeError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want an UnsafeError about %s", err, path)
	}
	if u.Path != path || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to name %s and say %q", err, path, want)
	}
}

func TestMkdirAllCreatesPrivateDirs(t *testing.T) {
	c, root := tree(t)
	d, err := c.MkdirAll("/a/b")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path() != filepath.Join(root, "a/b") {
		t.Errorf("Path = %s", d.Path())
	}
	for _, p := range []string{"a", "a/b"} {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", p, fi, err)
		}
	}
	d2, err := c.OpenDir("/a/b")
	if err != nil {
		t.Fatalf("OpenDir after MkdirAll: %v", err)
	}
	d2.Close()
	if _, err := c.OpenDir("/a/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenDir of a missing directory = %v, want ErrNotExist", err)
	}
}

// The real root: / and /tmp (root's, sticky) pass, and so does this test's
// own directory under /tmp.
func TestDefaultUnderTmp(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "safepath-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	d, err := safepath.Default().MkdirAll(dir + "/x")
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// Attack: a component of the path is a symbolic link into a directory the
// attacker controls. The walk refuses it instead of following it.
func TestSymlinkComponentRefused(t *testing.T) {
	c, root := tree(t)
	os.Mkdir(filepath.Join(root, "elsewhere"), 0o700)
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	_, err := c.MkdirAll("/link/ossd")
	wantUnsafe(t, err, filepath.Join(root, "link"), "is a symbolic link to "+filepath.Join(root, "elsewhere"))
	if _, err := os.Stat(filepath.Join(root, "elsewhere/ossd")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MkdirAll created a directory through the link: %v", err)
	}
}

func TestWritableDirRefused(t *testing.T) {
	c, root := tree(t)
	shared := filepath.Join(root, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777)
	_, err := c.MkdirAll("/shared/ossd")
	wantUnsafe(t, err, shared, "writable by group or others")
	if !strings.Contains(err.Error(), "mode 0777") {
		t.Errorf("err = %v, want the mode", err)
	}
	os.Chmod(shared, fs.ModeSticky|0o777) // sticky, but not root's
	if os.Geteuid() != 0 {
		_, err = c.OpenDir("/shared")
		wantUnsafe(t, err, shared, "writable by group or others")
	}
}

func TestNotADirectoryRefused(t *testing.T) {
	c, root := tree(t)
	os.WriteFile(filepath.Join(root, "f"), nil, 0o600)
	_, err := c.OpenDir("/f")
	wantUnsafe(t, err, filepath.Join(root, "f"), "is not a directory")
}

// Attack: the file ossd is about to append to is a symbolic link to a file
// the attacker cannot write himself. OpenFile refuses, and the target is
// unchanged.
func TestOpenFileRefusesSymlink(t *testing.T) {
	c, root := tree(t)
	target := filepath.Join(root, "target")
	os.WriteFile(target, []byte("precious\n"), 0o600)
	os.Symlink(target, filepath.Join(root, "audit.log"))
	os.Symlink(filepath.Join(root, "new"), filepath.Join(root, "dangling"))
	d, err := c.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const flag = os.O_WRONLY | os.O_APPEND | os.O_CREATE
	_, err = d.OpenFile("audit.log", flag, 0o600)
	wantUnsafe(t, err, filepath.Join(root, "audit.log"), "is a symbolic link to "+target)
	_, err = d.OpenFile("dangling", flag, 0o600)
	wantUnsafe(t, err, filepath.Join(root, "dangling"), "is a symbolic link")
	if b, _ := os.ReadFile(target); string(b) != "precious\n" {
		t.Errorf("target = %q, changed", b)
	}
	if _, err := os.Lstat(filepath.Join(root, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dangling link's target was created: %v", err)
	}
}

func TestOpenFile(t *testing.T) {
	c, root := tree(t)
	d, err := c.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const flag = os.O_WRONLY | os.O_APPEND | os.O_CREATE
	f, err := d.OpenFile("audit.log", flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("line\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(filepath.Join(root, "audit.log")); fi.Mode().Perm() != 0o600 {
		t.Errorf("created with mode %v, want 0600", fi.Mode().Perm())
	}
	os.Chmod(filepath.Join(root, "audit.log"), 0o644)
	_, err = d.OpenFile("audit.log", flag, 0o600)
	wantUnsafe(t, err, filepath.Join(root, "audit.log"), "permission bits for group or others")
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = d.OpenFile("fifo", os.O_RDONLY, 0) // would block without O_NONBLOCK
	wantUnsafe(t, err, filepath.Join(root, "fifo"), "not a regular file")
	// A second name for one of our files (another user's hard link, where
	// fs.protected_hardlinks is off) is refused under either name.
	os.Chmod(filepath.Join(root, "audit.log"), 0o600)
	if err := os.Link(filepath.Join(root, "audit.log"), filepath.Join(root, "other")); err != nil {
		t.Fatal(err)
	}
	_, err = d.OpenFile("audit.log", flag, 0o600)
	wantUnsafe(t, err, filepath.Join(root, "audit.log"), "has 2 hard links")
	if f, err := d.OpenFile("audit.log", os.O_RDONLY, 0); err != nil {
		t.Errorf("reading a file with two names: %v", err)
	} else {
		f.Close()
	}
}

// Root-owned sticky directory (like /tmp): an entry below it must be ours.
func TestStickyDir(t *testing.T) {
	needRoot(t)
	c, root := tree(t)
	tmp := filepath.Join(root, "tmp")
	os.Mkdir(tmp, 0o700)
	os.Chmod(tmp, fs.ModeSticky|0o777)
	d, err := c.MkdirAll("/tmp/ours")
	if err != nil {
		t.Fatalf("sticky root directory refused: %v", err)
	}
	d.Close()
	theirs := filepath.Join(tmp, "theirs")
	os.Mkdir(theirs, 0o700)
	os.Chown(theirs, attacker, attacker)
	_, err = c.MkdirAll("/tmp/theirs/ossd")
	wantUnsafe(t, err, theirs, "(owner uid 4701, mode 0700) is not owned by root")
	os.Chmod(tmp, 0o777)
	_, err = c.OpenDir("/tmp/ours")
	wantUnsafe(t, err, tmp, "writable by group or others")
}

// Attack: the attacker owns a directory on the path, even one nobody else
// may write to; he can rename what is inside it.
func TestForeignOwnerRefused(t *testing.T) {
	needRoot(t)
	c, root := tree(t)
	gp := filepath.Join(root, "gp")
	os.MkdirAll(gp+"/ossd", 0o700)
	os.Chmod(gp, 0o755)
	os.Chown(gp, attacker, attacker)
	_, err := c.OpenDir("/gp/ossd")
	wantUnsafe(t, err, gp, "(owner uid 4701, mode 0755) is not owned by root")
	if !strings.Contains(err.Error(), "chown root "+gp) {
		t.Errorf("err = %v, want it to say what to do", err)
	}
}

func TestOpenFileRefusesForeignFile(t *testing.T) {
	needRoot(t)
	c, root := tree(t)
	p := filepath.Join(root, "audit.log")
	os.WriteFile(p, []byte("theirs\n"), 0o600)
	os.Chown(p, attacker, attacker)
	d, err := c.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.OpenFile("audit.log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	wantUnsafe(t, err, p, "(owner uid 4701, mode 0600) is not owned by root (ossd's own uid)")
	if err := d.CheckEntry("audit.log"); err == nil {
		t.Error("CheckEntry accepted another user's file")
	}
	if err := d.CheckEntry("missing"); err != nil {
		t.Errorf("CheckEntry(missing) = %v", err)
	}
}

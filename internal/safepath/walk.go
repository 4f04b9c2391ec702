package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Checker applies the rule. The zero Checker trusts only root.
type Checker struct {
	UID  uint32 // the owner trusted besides root: ossd's effective uid
	Root string // the directory walks start from, "/" when empty; tests point it at a tree of their own
}

// Default returns the Checker of this process: it trusts root and the
// process's effective uid.
func Default() Checker { return Checker{UID: uint32(os.Geteuid())} }

// Dir is an open directory whose path passed the rule.
type Dir struct {
	c    Checker
	f    *os.File // an O_PATH descriptor
	path string   // as walked, Root included
}

// OpenDir checks dir (absolute) and every directory above it, and returns
// it open.
func (c Checker) OpenDir(dir string) (*Dir, error) { return c.walk(dir, false) }

// MkdirAll is OpenDir that first creates the directories of dir that are
// missing, mode 0700, each inside one that passed the rule.
func (c Checker) MkdirAll(dir string) (*Dir, error) { return c.walk(dir, true) }

func (c Checker) walk(dir string, create bool) (*Dir, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("%s: not an absolute path", dir)
	}
	cur := c.Root
	if cur == "" {
		cur = "/"
	}
	fd, err := unix.Open(cur, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: cur, Err: err}
	}
	err = c.check(fd, -1, cur, "")
	for _, name := range strings.Split(filepath.Clean(dir), "/") {
		if err != nil || name == "" {
			continue
		}
		next := filepath.Join(cur, name)
		var nfd int
		nfd, err = step(fd, next, name, create)
		if err == nil {
			err = c.check(nfd, fd, next, name)
		}
		unix.Close(fd) // O_PATH: nothing to flush
		fd, cur = nfd, next
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	return &Dir{c: c, f: os.NewFile(uintptr(fd), cur), path: cur}, nil
}

// step opens name in parent without following it, first creating it (0700)
// when it is missing and create is set. It returns -1 with the error.
func step(parent int, path, name string, create bool) (int, error) {
	const flags = unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(parent, name, flags, 0)
	if errors.Is(err, unix.ENOENT) && create {
		if err := unix.Mkdirat(parent, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, &fs.PathError{Op: "mkdir", Path: path, Err: err}
		}
		fd, err = unix.Openat(parent, name, flags, 0)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// check applies the directory rule to the open component fd, named name in
// parent (-1 for the walk's start).
func (c Checker) check(fd, parent int, path, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	e := entryOf(&st)
	if u := c.dirProblem(path, e); u != nil {
		if e.mode.Type() == fs.ModeSymlink && parent >= 0 {
			u.Reason += linkTarget(parent, name)
		}
		return u
	}
	return nil
}

// linkTarget is " to TARGET" for the symbolic link name in dir, or "".
func linkTarget(dir int, name string) string {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "" // only for the message: the link is refused either way
	}
	return " to " + string(buf[:n])
}

// Path returns the directory's path, with the Checker's Root.
func (d *Dir) Path() string { return d.path }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// OpenFile opens name in d with flag (O_NOFOLLOW and O_CLOEXEC added) and,
// when it creates the file, perm. It refuses the file unless it is a
// regular file owned by ossd's uid with no permission bits for group or
// others and, when opened for writing, a single name (no other hard link),
// and it never follows a symbolic link.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	path := filepath.Join(d.path, name)
	// O_NONBLOCK: a FIFO planted here must not hang the open; it is refused below.
	fd, err := unix.Openat(int(d.f.Fd()), name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil { // ELOOP for a link; the kernel may say EACCES first for another user's link in a sticky directory
		return nil, d.entryError(name, err, d.c.fileProblem)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if u := d.c.fileProblem(path, entryOf(&st)); u != nil {
		unix.Close(fd)
		return nil, u
	}
	if st.Nlink > 1 && flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		// A hard link another user made to one of our files (where
		// fs.protected_hardlinks is off) passes every check above, and
		// writing through it would change that file. (A file only read may
		// have a second name for a moment: the URI key appears by link.)
		unix.Close(fd)
		return nil, &UnsafeError{Path: path, UID: st.Uid, Mode: entryOf(&st).mode,
			Reason: fmt.Sprintf("has %d hard links", st.Nlink), Fix: "ossd writes only a file with one name: remove this name"}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// CheckEntry returns an error unless name in d is missing or owned by root
// or ossd's uid, and not a symbolic link: what a daemon must know before it
// removes or replaces an entry it did not open, such as a stale socket.
func (d *Dir) CheckEntry(name string) error {
	return d.entryError(name, nil, d.c.entryProblem)
}

// entryError stats name in d without following it and returns what problem
// reports about it, else openErr (nil when name is missing).
func (d *Dir) entryError(name string, openErr error, problem func(string, entry) *UnsafeError) error {
	path := filepath.Join(d.path, name)
	var st unix.Stat_t
	err := unix.Fstatat(int(d.f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err != nil && openErr != nil:
		return &fs.PathError{Op: "open", Path: path, Err: openErr}
	case errors.Is(err, unix.ENOENT):
		return nil
	case err != nil:
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	e := entryOf(&st)
	if u := problem(path, e); u != nil {
		if e.mode.Type() == fs.ModeSymlink {
			u.Reason += linkTarget(int(d.f.Fd()), name)
		}
		return u
	}
	if openErr != nil {
		return &fs.PathError{Op: "open", Path: path, Err: openErr}
	}
	return nil
}

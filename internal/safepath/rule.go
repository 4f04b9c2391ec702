package safepath

import (
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io/fs"

	"github.com/ossd/ossd/internal/uidname"
)

// ErrUnsafe is matched (errors.Is) by every *[UnsafeError].
var ErrUnsafe = errors.New("unsafe path")

// UnsafeError names the component of a path that breaks the rule, and what
// to do about it.
type UnsafeError struct {
	Path   string      // the offending component: a directory, or the file itself
	UID    uint32      // its owner
	Mode   fs.FileMode // its type and permission bits
	Reason string      // what is wrong with it, e.g. "is a symbolic link to /home/x"
	Fix    string      // what to do
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%s (owner %s, mode %s) %s: %s", e.Path, uidname.String(e.UID), modeText(e.Mode), e.Reason, e.Fix)
}

// Is reports whether target is [ErrUnsafe].
func (e *UnsafeError) Is(target error) bool { return target == ErrUnsafe }

// modeText is the octal permission bits with the sticky bit, and the type
// when it is not a directory or a regular file.
func modeText(m fs.FileMode) string {
	p := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	s := fmt.Sprintf("%04o", p)
	switch m.Type() {
	case fs.ModeDir, fs.ModeSymlink, 0: // a link's type is in the reason
		return s
	case fs.ModeSocket:
		return s + ", socket"
	}
	return s + ", " + m.Type().String()
}

// entry is what the rule looks at in one component of a path.
type entry struct {
	uid  uint32
	mode fs.FileMode
}

// entryOf converts a stat result.
func entryOf(st *unix.Stat_t) entry {
	m := fs.FileMode(st.Mode & 0o777)
	if st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return entry{uid: st.Uid, mode: m}
}

// trusted reports whether uid may own a directory on the path.
func (c Checker) trusted(uid uint32) bool { return uid == 0 || uid == c.UID }

// shared reports whether e is a directory others may write to that the rule
// still accepts: root's, with the sticky bit.
func shared(e entry) bool {
	return e.mode.Perm()&0o022 != 0 && e.uid == 0 && e.mode&fs.ModeSticky != 0
}

// dirProblem returns the refusal of a directory on the path, or nil.
func (c Checker) dirProblem(path string, e entry) *UnsafeError {
	u := &UnsafeError{Path: path, UID: e.uid, Mode: e.mode}
	switch {
	case e.mode.Type() == fs.ModeSymlink:
		u.Reason, u.Fix = "is a symbolic link", "ossd follows no symbolic link on this path: give the real path, or replace the link with a directory owned by root"
	case !e.mode.IsDir():
		u.Reason, u.Fix = "is not a directory", "give a path whose every component is a directory"
	case !c.trusted(e.uid):
		u.Reason = "is not owned by " + c.owners()
		u.Fix = "whoever owns a directory on the path can replace what is below it: chown root " + path + ", or use a directory only root and ossd may write to, such as systemd's RuntimeDirectory= or $XDG_RUNTIME_DIR/ossd"
	case e.mode.Perm()&0o022 != 0 && !shared(e):
		u.Reason = "is writable by group or others and is not a root-owned sticky directory"
		u.Fix = "whoever can write to a directory on the path can replace what is below it: chmod go-w " + path + " (or chmod +t, if it must stay shared like /tmp), or use a directory only root and ossd may write to, such as systemd's RuntimeDirectory= or $XDG_RUNTIME_DIR/ossd"
	default:
		return nil
	}
	return u
}

// fileProblem returns the refusal of a file to be opened through the path,
// or nil.
func (c Checker) fileProblem(path string, e entry) *UnsafeError {
	u := &UnsafeError{Path: path, UID: e.uid, Mode: e.mode}
	switch {
	case e.mode.Type() == fs.ModeSymlink:
		u.Reason, u.Fix = "is a symbolic link", "ossd does not follow a symbolic link here: remove it, or give the real path"
	case !e.mode.IsRegular():
		u.Reason, u.Fix = "is not a regular file", "remove it, or give the path of a regular file"
	case e.uid != c.UID:
		u.Reason, u.Fix = "is not owned by "+c.self(), "remove it, or chown it to "+c.self()
	case e.mode.Perm()&0o077 != 0:
		u.Reason, u.Fix = "has permission bits for group or others", "chmod 600 "+path
	default:
		return nil
	}
	return u
}

// entryProblem returns the refusal of an existing entry other than a file
// to open (a stale socket), or nil: it must be owned by root or us.
func (c Checker) entryProblem(path string, e entry) *UnsafeError {
	if e.mode.Type() == fs.ModeSymlink {
		return &UnsafeError{Path: path, UID: e.uid, Mode: e.mode, Reason: "is a symbolic link",
			Fix: "ossd does not follow a symbolic link here: remove it, or give the real path"}
	}
	if c.trusted(e.uid) {
		return nil
	}
	return &UnsafeError{Path: path, UID: e.uid, Mode: e.mode, Reason: "is not owned by " + c.owners(),
		Fix: "ossd will neither use nor remove it: remove it as root, or use a directory only root and ossd may write to, such as systemd's RuntimeDirectory= or $XDG_RUNTIME_DIR/ossd"}
}

// self names the uid ossd runs as.
func (c Checker) self() string {
	if c.UID == 0 {
		return "root (ossd's own uid)"
	}
	return "ossd's own " + uidname.String(c.UID)
}

// owners names the owners the rule trusts.
func (c Checker) owners() string {
	if c.UID == 0 {
		return "root"
	}
	return "root or " + c.self()
}

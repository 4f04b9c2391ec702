package peer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrUnknown is returned when the peer cannot be identified (not a local
// process, or it exited during the lookup).
var ErrUnknown = errors.New("peer not identified")

// Identity is who is calling. The zero value is an unidentified caller.
type Identity struct {
	Known   bool     // false when the peer could not be identified
	UID     uint32   // effective uid (on TCP: the uid the socket was created with)
	GID     uint32   // on a Unix socket the effective gid; on TCP the real gid
	Groups  []uint32 // supplementary groups
	PID     int32
	Exe     string // path of the executable as the kernel reports it; "" if unreadable
	ExeFile FileID // device and inode of the running executable; zero if unreadable
	Cgroup  string // the cgroup v2 path ("0::" line of /proc/<pid>/cgroup)
	// NS is [NSOwn] when the caller is in ossd's own mount and user
	// namespaces; otherwise the namespaces that differ ("mnt", "user",
	// "mnt,user"), or "" if they could not be read.
	NS  string
	Via string // the listener that received the call, e.g. "socket"
}

// NSOwn is [Identity.NS] of a caller in ossd's own mount and user
// namespaces.
const NSOwn = "own"

// String renders the identity for logs and error messages.
func (id Identity) String() string {
	if !id.Known {
		return "unidentified caller"
	}
	return fmt.Sprintf("uid=%d gid=%d pid=%d exe=%s", id.UID, id.GID, id.PID, orDash(id.Exe))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FileID is the identity of a file: the device it is on and its inode.
// The zero FileID is no file.
type FileID struct {
	Dev uint64
	Ino uint64
}

// IsZero reports whether f is no file.
func (f FileID) IsZero() bool { return f == FileID{} }

// String renders f as major:minor:inode, or "" for the zero FileID.
func (f FileID) String() string {
	if f.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d", unix.Major(f.Dev), unix.Minor(f.Dev), f.Ino)
}

// FileOf returns the identity of the file at path, following symlinks, as
// this process's mount namespace resolves it.
func FileOf(path string) (FileID, error) { return fileAt(unix.AT_FDCWD, path) }

// fileAt returns the identity of name under dir, following symlinks. It
// asks for what the kernel has cached (AT_STATX_DONT_SYNC): a device and
// inode number do not change, and a FUSE or NFS server that does not
// answer cannot make the lookup wait.
func fileAt(dir int, name string) (FileID, error) {
	var st unix.Statx_t
	if err := unix.Statx(dir, name, unix.AT_STATX_DONT_SYNC, unix.STATX_INO, &st); err != nil {
		return FileID{}, fmt.Errorf("stat %s: %w", name, err)
	}
	return FileID{Dev: unix.Mkdev(st.Dev_major, st.Dev_minor), Ino: st.Ino}, nil
}

// parseCgroup returns the cgroup v2 path, or the first hierarchy's path on
// a v1 system.
func parseCgroup(s string) string {
	first := ""
	for _, line := range strings.Split(s, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			return parts[2]
		}
		if first == "" {
			first = parts[2]
		}
	}
	return first
}

// parseStatus reads the real gid ("Gid:" line, first field) and the
// supplementary groups ("Groups:" line) of /proc/<pid>/status. The real
// gid, not the effective one: a process can exec a setgid program after it
// connected and before it is looked at.
func parseStatus(status string) (gid uint32, groups []uint32) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "Gid:"); ok {
			if f := strings.Fields(rest); len(f) >= 1 {
				g, _ := strconv.ParseUint(f[0], 10, 32) // 0 if malformed
				gid = uint32(g)
			}
		}
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			for _, f := range strings.Fields(rest) {
				if g, err := strconv.ParseUint(f, 10, 32); err == nil {
					groups = append(groups, uint32(g))
				}
			}
		}
	}
	return gid, groups
}

// parseUids returns the uids of the "Uid:" line of /proc/<pid>/status
// (real, effective, saved and filesystem).
func parseUids(status string) []uint32 {
	var out []uint32
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			for _, f := range strings.Fields(rest) {
				if u, err := strconv.ParseUint(f, 10, 32); err == nil {
					out = append(out, uint32(u))
				}
			}
		}
	}
	return out
}

type ctxKey struct{}

// lazy computes an identity the first time it is asked for.
type lazy struct {
	once sync.Once
	find func() Identity
	id   Identity
}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	l := &lazy{id: id}
	l.once.Do(func() {})
	return context.WithValue(ctx, ctxKey{}, l)
}

// NewLazyContext returns ctx carrying the identity find returns, computed
// once, when [FromContext] first asks. A connection whose requests never
// need the caller's identity (no role has rules) never pays for the lookup.
func NewLazyContext(ctx context.Context, find func() Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{find: find})
}

// FromContext returns the identity in ctx, or an unidentified caller.
func FromContext(ctx context.Context) Identity {
	l, ok := ctx.Value(ctxKey{}).(*lazy)
	if !ok {
		return Identity{}
	}
	l.once.Do(func() { l.id = l.find() })
	return l.id
}

package peer

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nsIDs are the inode numbers of a process's mount and user namespaces.
type nsIDs struct{ mnt, user uint64 }

// bufSize is the size of the Finder's scratch buffers: a link target
// (socket:[N], an executable's path) or a small /proc file such as status.
const bufSize = 8 << 10

// openPID opens /proc/<pid>. Every read through the returned fd is of the
// same process, or fails once it is gone; whether that process is still
// the caller is the caller's check (pidfd alive afterwards).
func (f *Finder) openPID(pid int) (int, error) {
	return f.openDir(f.root + "/" + strconv.Itoa(pid))
}

// readProc fills Exe, ExeFile, Cgroup, Groups and NS of id from the
// /proc/<pid> directory dir and returns the real gid that /proc reports.
func (f *Finder) readProc(dir int, id *Identity) (gid uint32) {
	if exe, err := f.readlinkAt(dir, "exe"); err == nil {
		id.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	if fid, err := f.statAt(dir, "exe"); err == nil {
		id.ExeFile = fid
	}
	if s, err := f.readAt(dir, "cgroup"); err == nil {
		id.Cgroup = parseCgroup(s)
	}
	if s, err := f.readAt(dir, "status"); err == nil {
		gid, id.Groups = parseStatus(s)
	}
	if ns, err := f.namespacesAt(dir); err == nil {
		id.NS = f.compareNS(ns)
	}
	return gid
}

// compareNS says which of ns differ from ossd's own.
func (f *Finder) compareNS(ns nsIDs) string {
	if f.self == (nsIDs{}) {
		return ""
	}
	var diff []string
	if ns.mnt != f.self.mnt {
		diff = append(diff, "mnt")
	}
	if ns.user != f.self.user {
		diff = append(diff, "user")
	}
	if len(diff) == 0 {
		return NSOwn
	}
	return strings.Join(diff, ",")
}

// namespaces reads the namespaces of the process whose /proc directory is
// dir.
func (f *Finder) namespaces(dir string) (nsIDs, error) {
	fd, err := f.openDir(dir)
	if err != nil {
		return nsIDs{}, err
	}
	defer unix.Close(fd)
	return f.namespacesAt(fd)
}

func (f *Finder) namespacesAt(dir int) (nsIDs, error) {
	mnt, err := f.statAt(dir, "ns/mnt")
	if err != nil {
		return nsIDs{}, err
	}
	user, err := f.statAt(dir, "ns/user")
	if err != nil {
		return nsIDs{}, err
	}
	return nsIDs{mnt: mnt.Ino, user: user.Ino}, nil
}

// The procfs accessors below count every entry they touch ([Stats.Opened]).

func (f *Finder) openDir(path string) (int, error) {
	f.stats.opened.Add(1)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	return fd, nil
}

func (f *Finder) readlinkAt(dir int, name string) (string, error) {
	f.stats.opened.Add(1)
	buf := f.buf()
	defer f.bufs.Put(buf)
	n, err := unix.Readlinkat(dir, name, buf[:])
	if err != nil {
		return "", fmt.Errorf("readlink %s: %w", name, err)
	}
	return string(buf[:n]), nil
}

// socketAt returns the socket inode that name, an fd link under dir, is
// open on. It reads the link ("socket:[inode]") rather than stat through
// it: readlink never reaches the file's filesystem, so an fd on a FUSE or
// NFS file that does not answer cannot make a lookup wait.
func (f *Finder) socketAt(dir int, name string) (uint64, bool) {
	f.stats.opened.Add(1)
	buf := f.buf()
	defer f.bufs.Put(buf)
	n, err := unix.Readlinkat(dir, name, buf[:])
	if err != nil || n < len("socket:[0]") || string(buf[:8]) != "socket:[" || buf[n-1] != ']' {
		return 0, false
	}
	ino := uint64(0)
	for _, c := range buf[8 : n-1] {
		if c < '0' || c > '9' || ino > (1<<63)/10 {
			return 0, false
		}
		ino = ino*10 + uint64(c-'0')
	}
	return ino, true
}

// statAt returns the identity of name, following it: for
// /proc/<pid>/exe and ns/*, the file or namespace the magic link stands
// for (see [fileAt]).
func (f *Finder) statAt(dir int, name string) (FileID, error) {
	f.stats.opened.Add(1)
	return fileAt(dir, name)
}

// readAt reads a small /proc file whole.
func (f *Finder) readAt(dir int, name string) (string, error) {
	f.stats.opened.Add(1)
	buf := f.buf()
	defer f.bufs.Put(buf)
	b, err := readFileAt(dir, name, buf[:])
	return string(b), err
}

// readFileAt reads name into buf. A /proc file generated in one go (as
// status and cgroup are) comes whole in the first read when it is shorter
// than buf; a longer one is cut at len(buf).
func readFileAt(dir int, name string, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		n += m
		if m == 0 || n < len(buf)/2 {
			break
		}
	}
	return buf[:n], nil
}

// buf returns a scratch buffer; put it back in f.bufs.
func (f *Finder) buf() *[bufSize]byte {
	if b, ok := f.bufs.Get().(*[bufSize]byte); ok {
		return b
	}
	return new([bufSize]byte)
}

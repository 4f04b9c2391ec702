package peer

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nsIDs are the inode numbers of a process's mount and user namespaces.
type nsIDs struct{ mnt, user uint64 }

// readProc fills Exe, ExeFile, Cgroup, Groups and NS of id from
// /proc/<id.PID> and returns the real gid that /proc reports. Every read
// goes through one directory fd, so all of them are of the same process
// (or fail once it is gone); whether that process is the caller is the
// caller's check (pidfd alive afterwards).
func (f *Finder) readProc(id *Identity) (gid uint32) {
	dir, err := f.openDir(f.root + "/" + strconv.Itoa(int(id.PID)))
	if err != nil {
		return 0
	}
	defer unix.Close(dir)
	if exe, err := f.readlinkAt(dir, "exe"); err == nil {
		id.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	if fid, err := f.statAt(dir, "exe"); err == nil {
		id.ExeFile = fid
	}
	if b, err := f.readAt(dir, "cgroup"); err == nil {
		id.Cgroup = parseCgroup(string(b))
	}
	if b, err := f.readAt(dir, "status"); err == nil {
		gid, id.Groups = parseStatus(string(b))
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
	var buf [unix.PathMax]byte
	n, err := unix.Readlinkat(dir, name, buf[:])
	if err != nil {
		return "", fmt.Errorf("readlink %s: %w", name, err)
	}
	return string(buf[:n]), nil
}

// statAt stats name, following it: for /proc/<pid>/exe and ns/*, the
// file or namespace the magic link stands for.
func (f *Finder) statAt(dir int, name string) (FileID, error) {
	f.stats.opened.Add(1)
	var st unix.Stat_t
	if err := unix.Fstatat(dir, name, &st, 0); err != nil {
		return FileID{}, fmt.Errorf("stat %s: %w", name, err)
	}
	return FileID{Dev: st.Dev, Ino: st.Ino}, nil
}

// readAt reads a small /proc file whole.
func (f *Finder) readAt(dir int, name string) ([]byte, error) {
	f.stats.opened.Add(1)
	return readFileAt(dir, name)
}

func readFileAt(dir int, name string) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

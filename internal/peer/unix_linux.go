package peer

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Unix identifies the process at the other end of c.
func (f *Finder) Unix(c *net.UnixConn) (Identity, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Identity{}, fmt.Errorf("peer: %w", err)
	}
	var (
		cred  *unix.Ucred
		pidfd = -1
		cerr  error
		st    unix.Stat_t
	)
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if cerr != nil {
			return
		}
		// The kernel's pidfd for the process that connected (Linux 6.5+).
		if p, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PEERPIDFD); err == nil {
			pidfd = p
		} else if err := unix.Fstat(int(fd), &st); err != nil {
			st.Ino = 0
		}
	}); err != nil {
		return Identity{}, fmt.Errorf("peer: %w", err)
	}
	if cerr != nil {
		return Identity{}, fmt.Errorf("peer: SO_PEERCRED: %w", cerr)
	}
	id := Identity{Known: true, UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}
	// Without the kernel's pidfd, one opened now may be a successor's: the
	// caller can connect, pass the socket on and exit, and another user's
	// process be given its pid before the lookup. Only a process that
	// holds the client's end of this connection is taken for the caller.
	var peerIno uint64
	if pidfd < 0 {
		if peerIno = f.unixPeer(st.Ino); peerIno == 0 {
			return id, nil // uid and gid stand on their own; exe and cgroup stay empty
		}
		if pidfd, err = unix.PidfdOpen(int(cred.Pid), 0); err != nil {
			return id, nil
		}
	}
	defer unix.Close(pidfd)
	if dir, err := f.openPID(int(id.PID)); err == nil {
		f.readProc(dir, &id)
		unix.Close(dir)
	}
	held := peerIno == 0 || f.holds(int(id.PID), peerIno)
	if !held || !alive(pidfd) {
		// The process at pid does not hold the connection, or exited while
		// we read /proc/<pid> (what we read may belong to a successor with
		// the same pid). Keep only what the kernel gave us at connect time.
		id.Exe, id.ExeFile, id.Cgroup, id.Groups, id.NS = "", FileID{}, "", nil, ""
	}
	return id, nil
}

// unixPeer returns the inode of the client's end of the connection whose
// server end has inode ino, or 0 if the kernel does not say.
func (f *Finder) unixPeer(ino uint64) uint64 {
	if f.diag == nil || ino == 0 {
		return 0
	}
	s, err := f.diag.UnixPeer(ino)
	if err != nil {
		return 0
	}
	return s.Inode
}

// holds reports whether process pid has an fd open on socket inode.
func (f *Finder) holds(pid int, inode uint64) bool {
	_, fd := f.sockets(pid, inode)
	return fd != ""
}

// alive reports whether the process behind pidfd still exists.
func alive(pidfd int) bool {
	return unix.PidfdSendSignal(pidfd, 0, nil, 0) == nil
}

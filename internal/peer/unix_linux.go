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
	)
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if cerr != nil {
			return
		}
		// The kernel's pidfd for the process that connected (Linux 6.5+).
		if p, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PEERPIDFD); err == nil {
			pidfd = p
		}
	}); err != nil {
		return Identity{}, fmt.Errorf("peer: %w", err)
	}
	if cerr != nil {
		return Identity{}, fmt.Errorf("peer: SO_PEERCRED: %w", cerr)
	}
	id := Identity{Known: true, UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}
	if pidfd < 0 {
		if pidfd, err = unix.PidfdOpen(int(cred.Pid), 0); err != nil {
			return id, nil // uid and gid stand on their own; exe and cgroup stay empty
		}
	}
	defer unix.Close(pidfd)
	if dir, err := f.openPID(int(id.PID)); err == nil {
		f.readProc(dir, &id)
		unix.Close(dir)
	}
	if !alive(pidfd) {
		// The process exited while we read /proc/<pid>: what we read may
		// belong to a successor with the same pid. Keep only what the kernel
		// gave us at connect time.
		id.Exe, id.ExeFile, id.Cgroup, id.Groups, id.NS = "", FileID{}, "", nil, ""
	}
	return id, nil
}

// alive reports whether the process behind pidfd still exists.
func alive(pidfd int) bool {
	return unix.PidfdSendSignal(pidfd, 0, nil, 0) == nil
}

package peer

import (
	"os"

	"golang.org/x/sys/unix"
)

// Self returns the identity of the calling process itself, read as a peer's
// would be: for a process that acts for itself, such as the credential
// helper assuming a role without the daemon.
func Self() Identity {
	id := Identity{Known: true, UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()), PID: int32(os.Getpid()), Via: "self", NS: NSOwn}
	f := &Finder{root: "/proc"} // no sock_diag socket: only /proc/self is read
	if dir, err := f.openPID(os.Getpid()); err == nil {
		f.readProc(dir, &id) // the gid it returns is the real one; the effective one is ours already
		unix.Close(dir)
	}
	id.NS = NSOwn // by definition, whatever readProc could read
	return id
}

package daemonid

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvUID names the environment variable that sets the uid a client expects
// the daemon to run as, when --daemon-uid is not given.
const EnvUID = "OSSD_DAEMON_UID"

// Want is the uid a client expects the daemon to run as, besides root. The
// zero Want expects the client's own effective uid.
type Want struct {
	uid uint32
	set bool
}

// UID returns the Want that expects uid.
func UID(uid uint32) Want { return Want{uid: uid, set: true} }

// Parse returns the Want that flag (the value of --daemon-uid) names, else
// $OSSD_DAEMON_UID, else the zero Want. A value is a decimal uid.
func Parse(flag string, getenv func(string) string) (Want, error) {
	src, s := "--daemon-uid", flag
	if s == "" {
		src, s = "$"+EnvUID, getenv(EnvUID)
	}
	if s == "" {
		return Want{}, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return Want{}, fmt.Errorf("%s %q: want a numeric uid, such as the output of `id -u ossd`", src, s)
	}
	return UID(uint32(n)), nil
}

// Expected returns the uid w expects besides root.
func (w Want) Expected() uint32 {
	if !w.set {
		return uint32(os.Geteuid())
	}
	return w.uid
}

// Check returns a [*WrongDaemonError] unless the process listening on the
// socket of conn, a connection to socket, ran as root or as w.Expected()
// when it called listen.
func Check(conn syscall.Conn, socket string, w Want) error {
	uid, err := PeerUID(conn)
	if err != nil {
		return fmt.Errorf("check who serves %s: %w", socket, err)
	}
	if uid == 0 || uid == w.Expected() {
		return nil
	}
	return &WrongDaemonError{Socket: socket, UID: uid, Want: w.Expected(), Set: w.set}
}

// PeerUID returns the uid the kernel reports for the other end of conn, a
// Unix socket (SO_PEERCRED).
func PeerUID(conn syscall.Conn) (uint32, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return cred.Uid, nil
}

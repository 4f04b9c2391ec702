package daemonid

import (
	"strconv"

	"github.com/ossd/ossd/internal/uidname"
)

// ExitCode is the exit status of a client command refused by [Check], apart
// from usage errors (2) and every other failure (1).
const ExitCode = 3

// WrongDaemonError reports a socket served by a uid the client does not
// trust: not root, and not the uid it expects.
type WrongDaemonError struct {
	Socket string
	UID    uint32 // who listens on the socket
	Want   uint32 // the uid expected besides root
	Set    bool   // whether Want came from --daemon-uid or $OSSD_DAEMON_UID, rather than being the client's own uid
}

func (e *WrongDaemonError) Error() string {
	whom := "root"
	switch {
	case e.Want == 0:
	case e.Set:
		whom += " or " + uidname.String(e.Want) + " (--daemon-uid)"
	default:
		whom += " or you, " + uidname.String(e.Want)
	}
	n := strconv.FormatUint(uint64(e.UID), 10)
	return "socket " + e.Socket + " is served by " + uidname.String(e.UID) + ", not " + whom + ": refusing; " +
		"another user may have put his listener at this path. If this daemon is yours, pass --daemon-uid " + n +
		" (or set " + EnvUID + "=" + n + ")"
}

package reach

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Kind is why the daemon could not be reached.
type Kind int

// The kinds of [Error].
const (
	NotRunning   Kind = iota + 1 // no socket, or nothing listening on it
	Denied                       // the socket or a directory on its path refuses this user
	NotAnswering                 // connected, but no answer in time
	Other                        // anything else
)

// Error is a failure to reach the daemon, with the advice for it.
type Error struct {
	Kind   Kind
	Path   string // the socket
	Chosen string // what chose Path: "--socket", "$OSSD_SOCKET", ...
	Detail string // what was found, e.g. the socket's owner, group and mode
	Advice string
	Err    error
}

// Error returns a message of two or three lines: what happened, what was
// found, what to do.
func (e *Error) Error() string {
	what := map[Kind]string{NotRunning: "ossd is not running at", Denied: "permission denied on",
		NotAnswering: "ossd is not answering at", Other: "cannot reach ossd at"}[e.Kind]
	s := fmt.Sprintf("%s %s (socket chosen by %s): %v", what, e.Path, e.Chosen, e.Err)
	if e.Detail != "" {
		s += "\n  " + e.Detail
	}
	if e.Advice != "" {
		s += "\n  " + e.Advice
	}
	return s
}

// Unwrap returns the dial or request error.
func (e *Error) Unwrap() error { return e.Err }

// Diagnose explains err, met talking to the socket at path, chosen by
// chosen (see [Error.Chosen]).
func Diagnose(path, chosen string, err error) *Error {
	e := &Error{Kind: Other, Path: path, Chosen: chosen, Err: cause(err)}
	switch {
	case errors.Is(err, fs.ErrPermission):
		e.Kind = Denied
		e.Detail, e.Advice = denied(path)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = NotRunning
		e.Advice = "start it with: ossd serve --config FILE (or systemctl start ossd.socket), or point --socket at the socket it serves"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Kind = NotAnswering
		e.Advice = "the daemon accepted the connection but did not answer in time: see its log (journalctl -u ossd), or raise --timeout"
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// cause drops the wrapping that names http://localhost, which is not where
// the request went.
func cause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

// denied finds what refuses this user: the first directory on the way
// that it cannot search, else the socket itself.
func denied(path string) (detail, advice string) {
	dirs := []string{}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		dirs = append([]string{d}, dirs...)
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range dirs {
		if syscall.Access(d, 1) != nil { // X_OK: cannot search d
			return describe(d, "directory", 0o010)
		}
	}
	return describe(path, "socket", 0o020)
}

// describe names the owner, group and mode of path, and advises joining
// its group when the group's permission bit groupBit would let the user in.
func describe(path, what string, groupBit fs.FileMode) (detail, advice string) {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("%s %s: %v", what, path, err), ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("%s %s: mode %04o", what, path, fi.Mode().Perm()), ""
	}
	owner, group := userName(st.Uid), groupName(st.Gid)
	detail = fmt.Sprintf("%s %s is owned by %s, group %s, mode %04o", what, path, owner, group, fi.Mode().Perm())
	if fi.Mode().Perm()&groupBit != 0 {
		return detail, fmt.Sprintf("members of group %s may use it: join it (usermod -aG %s USER, then log in again), or run as %s", group, group, owner)
	}
	return detail, fmt.Sprintf("only %s may use it; run as %s, or set [server] socket_mode and socket_group (the socket unit's SocketMode= and SocketGroup=) to admit a group", owner, owner)
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return "uid " + strconv.FormatUint(uint64(uid), 10)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return "gid " + strconv.FormatUint(uint64(gid), 10)
}

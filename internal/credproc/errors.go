package credproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/ossd/ossd/internal/paths"
)

// NotRunningError reports that no daemon answers on the socket.
type NotRunningError struct {
	Socket string
	Err    error // the dial error
}

func (e *NotRunningError) Error() string {
	why := "nothing listens on it (a daemon that stopped may have left the socket behind)"
	if errors.Is(e.Err, fs.ErrNotExist) {
		why = "the socket does not exist"
	}
	return fmt.Sprintf("no ossd daemon answers on %s: %s\n"+
		"  start it with `ossd serve --config FILE` (or `systemctl start ossd`), or point --socket or $%s at its socket;\n"+
		"  without a daemon, `ossd credential-process --direct --config FILE --role NAME` assumes the role itself",
		paths.Describe(e.Socket), why, paths.EnvSocket)
}

func (e *NotRunningError) Unwrap() error { return e.Err }

// PermissionError reports that the socket, or a directory above it, does not
// let this user in.
type PermissionError struct {
	Socket string
	Err    error
}

func (e *PermissionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "permission denied on the ossd socket %s\n", e.Socket)
	target, fi, err := blockingPath(e.Socket)
	if err != nil {
		fmt.Fprintf(&b, "  cannot inspect %s: %v\n", target, err)
	} else {
		fmt.Fprintf(&b, "  %s is %s\n", target, ownerMode(fi))
	}
	fmt.Fprintf(&b, "  you are %s\n", identity())
	b.WriteString("  the daemon's [server] socket_mode and socket_group decide who may connect: ask to be added to the socket's group,\n" +
		"  or run a daemon of your own (`ossd serve --config FILE` uses a socket under $XDG_RUNTIME_DIR)")
	return b.String()
}

func (e *PermissionError) Unwrap() error { return e.Err }

// blockingPath returns the socket, or the first directory above it that
// this user cannot search, with its file info.
func blockingPath(socket string) (string, fs.FileInfo, error) {
	fi, err := os.Stat(socket)
	if !errors.Is(err, fs.ErrPermission) {
		return socket, fi, err
	}
	var chain []string // the socket's directories, deepest first
	for d := filepath.Dir(socket); ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(chain) - 1; i > 0; i-- { // from the root down
		if _, err := os.Stat(chain[i-1]); errors.Is(err, fs.ErrPermission) {
			fi, err := os.Stat(chain[i])
			return chain[i], fi, err
		}
	}
	fi, err = os.Stat(chain[0])
	return chain[0], fi, err
}

// ownerMode describes who owns fi and its permission bits.
func ownerMode(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("mode %04o", fi.Mode().Perm())
	}
	return fmt.Sprintf("owned by %s:%s with mode %04o", userName(st.Uid), groupName(st.Gid), fi.Mode().Perm())
}

func identity() string {
	groups, err := os.Getgroups()
	if err != nil {
		groups = nil // only for the message; the primary group is still shown
	}
	names := []string{groupName(uint32(os.Getegid()))}
	for _, g := range groups {
		if n := groupName(uint32(g)); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return fmt.Sprintf("%s, in groups %s", userName(uint32(os.Geteuid())), strings.Join(names, ", "))
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username + "(" + id + ")"
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name + "(" + id + ")"
	}
	return id
}

// dialError classifies a failure to connect to the socket.
func dialError(socket string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTDIR):
		return &NotRunningError{Socket: socket, Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &PermissionError{Socket: socket, Err: err}
	}
	return fmt.Errorf("connect to the ossd socket %s: %w", paths.Describe(socket), err)
}

// UnknownRoleError reports a role the daemon does not serve.
type UnknownRoleError struct {
	Role, Socket string
	Roles        []string // what the daemon serves; nil if it could not be listed
	listErr      error
}

func (e *UnknownRoleError) Error() string {
	s := fmt.Sprintf("the daemon at %s has no role %q", e.Socket, e.Role)
	switch {
	case e.listErr != nil:
		return s + " (listing its roles failed: " + e.listErr.Error() + ")"
	case len(e.Roles) == 0:
		return s + "; it serves no roles: add a [[role]] to its config"
	}
	return s + "; it serves: " + strings.Join(e.Roles, ", ")
}

// APIError is a refusal from the daemon: its HTTP status and the stable
// code and message of its JSON error body.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Code == "CredentialsUnavailable" {
		return "the daemon could not get credentials (" + e.Code + "): " + e.Message +
			"\n  the STS error code is in the message above; the daemon's log (journalctl -u ossd) has the history"
	}
	return fmt.Sprintf("the daemon refused the request: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// apiError decodes a JSON error body {"Code","Message"}.
func apiError(status int, body []byte) *APIError {
	var v struct{ Code, Message string }
	if err := json.Unmarshal(body, &v); err != nil || v.Code == "" {
		return &APIError{Status: status, Code: "HTTP" + strconv.Itoa(status), Message: printable(body)}
	}
	return &APIError{Status: status, Code: truncate(v.Code), Message: printable([]byte(v.Message))}
}

// printable returns at most 300 bytes of b with control characters replaced,
// so a daemon's answer cannot rewrite the user's terminal.
func printable(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(string(b)))
}

// truncate shortens a code a daemon sent to a length fit for a message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

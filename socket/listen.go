package socket

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrSocketInUse is returned when another process answers on the socket.
var ErrSocketInUse = errors.New("socket in use by a live process")

// ListenOptions place the socket.
type ListenOptions struct {
	Mode fs.FileMode // default 0600
	GID  int         // -1 to leave the group alone
}

// Listen creates the parent directory (0700) if needed and listens on path.
func Listen(path string, o ListenOptions) (net.Listener, error) {
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := checkParent(filepath.Dir(path), os.Geteuid()); err != nil {
		return nil, err
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, o.Mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	if o.GID >= 0 {
		if err := os.Chown(path, -1, o.GID); err != nil {
			ln.Close()
			return nil, fmt.Errorf("chown %s: %w", path, err)
		}
	}
	return ln, nil
}

// clearStale removes a socket at path that nobody answers on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listen %s: exists and is not a socket; refusing to remove it", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("listen %s: %w", path, ErrSocketInUse)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// checkParent refuses a socket directory that another user owns and anyone
// may write to: whoever owns it could swap the socket for their own and
// collect what clients send, or serve them credentials of their choosing.
func checkParent(dir string, euid int) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if fi.Mode().Perm()&0o002 != 0 && int(st.Uid) != euid {
		return fmt.Errorf("listen: socket directory %s is writable by everyone and owned by uid %d, not us (uid %d); use a private directory such as $XDG_RUNTIME_DIR/ossd or /run/ossd", dir, st.Uid, euid)
	}
	return nil
}

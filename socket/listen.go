package socket

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ossd/ossd/internal/safepath"
)

// ErrSocketInUse is returned when another process answers on the socket.
var ErrSocketInUse = errors.New("socket in use by a live process")

// ListenOptions place the socket.
type ListenOptions struct {
	Mode fs.FileMode // default 0600
	GID  int         // -1 to leave the group alone
}

// Listen listens on path. Every directory from / down to the socket's must
// pass the [safepath] rule (real directories, owned by root or us, not
// writable by others unless root's and sticky); missing ones are created
// 0700, each inside one that passed. A stale socket left there is replaced.
func Listen(path string, o ListenOptions) (net.Listener, error) {
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	if err := checkDir(path); err != nil {
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

// checkDir applies the safepath rule to the socket's directory, creating
// it if missing, and to an entry already at path: whoever could replace the
// socket could collect what clients send, or serve them credentials of
// their choosing.
func checkDir(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("listen %s: %w", path, err)
	}
	d, err := safepath.Default().MkdirAll(filepath.Dir(abs))
	if err != nil {
		return fmt.Errorf("listen %s: refusing the socket directory: %w", path, err)
	}
	defer d.Close() // O_PATH: nothing to flush
	if err := d.CheckEntry(filepath.Base(abs)); err != nil {
		return fmt.Errorf("listen %s: %w", path, err)
	}
	return nil
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

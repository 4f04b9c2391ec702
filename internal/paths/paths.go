// Package paths finds the daemon's socket the same way for the server and
// every client command.
package paths

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// EnvSocket names the environment variable that overrides the socket path.
const EnvSocket = "OSSD_SOCKET"

// Socket returns the socket path: flag if set, then $OSSD_SOCKET, then the
// configured path, then /run/ossd/ossd.sock for root, then
// $XDG_RUNTIME_DIR/ossd/ossd.sock, then /tmp/ossd-<uid>/ossd.sock.
func Socket(flag, configured string, getenv func(string) string, euid int) string {
	switch {
	case flag != "":
		return flag
	case getenv(EnvSocket) != "":
		return getenv(EnvSocket)
	case configured != "":
		return configured
	case euid == 0:
		return "/run/ossd/ossd.sock"
	case getenv("XDG_RUNTIME_DIR") != "":
		return filepath.Join(getenv("XDG_RUNTIME_DIR"), "ossd", "ossd.sock")
	}
	return filepath.Join("/tmp", "ossd-"+strconv.Itoa(euid), "ossd.sock")
}

// Describe explains where Socket looked, for error messages.
func Describe(path string) string {
	return fmt.Sprintf("%s (set by --socket, $%s, [server] socket, or the default)", path, EnvSocket)
}

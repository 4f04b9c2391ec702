// Package paths finds the daemon's socket and runtime directory the same
// way for the server and every client command.
package paths

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvSocket names the environment variable that overrides the socket path.
const EnvSocket = "OSSD_SOCKET"

// EnvRuntimeDirectory names the variable systemd sets for a unit with
// RuntimeDirectory= (several directories are separated by colons).
const EnvRuntimeDirectory = "RUNTIME_DIRECTORY"

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
	}
	if dir := defaultRuntimeDir(getenv, euid); dir != "" {
		return filepath.Join(dir, "ossd.sock")
	}
	return filepath.Join("/tmp", "ossd-"+strconv.Itoa(euid), "ossd.sock")
}

// RuntimeDir returns the directory for state that outlives a restart of
// the daemon but not a reboot: $RUNTIME_DIRECTORY (its first entry) when
// systemd set it, then /run/ossd for root, then $XDG_RUNTIME_DIR/ossd; ""
// when none applies. Unlike [Socket] it never falls back to /tmp: what is
// kept there holds secrets.
func RuntimeDir(getenv func(string) string, euid int) string {
	if dir, _, _ := strings.Cut(getenv(EnvRuntimeDirectory), ":"); dir != "" {
		return dir
	}
	return defaultRuntimeDir(getenv, euid)
}

// defaultRuntimeDir is /run/ossd for root, else $XDG_RUNTIME_DIR/ossd, else "".
func defaultRuntimeDir(getenv func(string) string, euid int) string {
	switch {
	case euid == 0:
		return "/run/ossd"
	case getenv("XDG_RUNTIME_DIR") != "":
		return filepath.Join(getenv("XDG_RUNTIME_DIR"), "ossd")
	}
	return ""
}

// Describe explains where Socket looked, for error messages.
func Describe(path string) string {
	return fmt.Sprintf("%s (set by --socket, $%s, [server] socket, or the default)", path, EnvSocket)
}

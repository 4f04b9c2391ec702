package systemd

import (
	"net"
	"slices"

	"github.com/coreos/go-systemd/v22/activation"
)

// File descriptor names (FileDescriptorName= in a socket unit) that ossd
// looks for.
const (
	// SocketName is the Unix socket of the local API (ossd.socket).
	SocketName = "ossd"
	// MetadataName is an ECS-metadata-compatible TCP listener
	// (ossd-metadata.socket).
	MetadataName = "ossd-metadata"
)

// Listeners returns the stream sockets systemd passed to this process, by
// file descriptor name. Descriptors without a name are keyed as systemd or
// the go-systemd library names them ("unknown", the socket unit's name, or
// LISTEN_FD_<n>); descriptors that are not stream listeners are skipped.
//
// Unix listeners are set not to unlink their path on Close: the path belongs
// to the socket unit, which keeps listening while the service restarts.
//
// Listeners unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, so a second
// call returns an empty map, and so do calls in a process systemd did not
// start.
func Listeners() (map[string][]net.Listener, error) {
	ls, err := activation.ListenersWithNames()
	if err != nil {
		return nil, err
	}
	for _, group := range ls {
		for _, ln := range group {
			if u, ok := ln.(*net.UnixListener); ok {
				u.SetUnlinkOnClose(false)
			}
		}
	}
	return ls, nil
}

// Take removes the listeners named name from ls and returns them.
func Take(ls map[string][]net.Listener, name string) []net.Listener {
	out := ls[name]
	delete(ls, name)
	return out
}

// TakeOnly removes and returns the one listener in ls when ls holds exactly
// one and its name is not one of ossd's own names: a socket passed without
// FileDescriptorName= (for example by systemd-socket-activate without
// --fdname).
func TakeOnly(ls map[string][]net.Listener) net.Listener {
	if len(ls) != 1 {
		return nil
	}
	for name, group := range ls {
		if len(group) != 1 || slices.Contains([]string{SocketName, MetadataName}, name) {
			return nil
		}
		delete(ls, name)
		return group[0]
	}
	return nil
}

// Package systemd speaks the parts of systemd's service protocol that ossd
// uses: socket activation (LISTEN_FDS, sd_listen_fds(3)), readiness and
// status notification (NOTIFY_SOCKET, sd_notify(3)) and the service watchdog
// (WATCHDOG_USEC). The wire protocol is github.com/coreos/go-systemd/v22's.
//
// Everything here is a no-op when the process was not started by systemd
// (none of the variables is set): [Listeners] returns an empty map, [Notify]
// sends nothing, [WatchdogInterval] is 0 and [Run] returns at once.
//
// The unit files next to this package (ossd.service, ossd.socket,
// ossd-metadata.socket) name their sockets with FileDescriptorName=; the
// names ossd looks for are [SocketName] and [MetadataName].
//
// Functions are safe for concurrent use, except [Listeners], which consumes
// the LISTEN_* variables and so must be called once per process.
package systemd

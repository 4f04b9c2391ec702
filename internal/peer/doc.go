// Package peer identifies the local process at the other end of a
// connection: uid, gid, supplementary groups, pid, executable (its path and
// the identity of its file) and cgroup, and whether it shares ossd's mount
// and user namespaces.
//
// A [Finder] does the work; one is shared by every listener of the daemon.
// It is safe for concurrent use, and Close releases its netlink socket.
//
// Unix socket. The kernel vouches for the peer: SO_PEERCRED, and
// SO_PEERPIDFD where the kernel has it.
//
// Loopback TCP. The kernel's socket diagnostics (NETLINK_SOCK_DIAG, see
// [github.com/ossd/ossd/internal/sockdiag]) give the client socket's owner
// uid and inode from the connection's four-tuple in one round trip; on a
// kernel without inet_diag, /proc/net/tcp{,6} is read instead and the
// Finder says so once in its log. The process holding the socket is then
// looked for only among the processes whose /proc/<pid> directory that uid
// owns: another user's processes cost one stat(2) each when they first
// appear (the Finder keeps a table of owners, refreshed when
// /proc/loadavg reports new pids) and their fds cost nothing. A socket
// held by more than one of those processes does not say which one is
// asking: the caller is unidentified. Processes of other uids are not
// looked at: a process that hands its connection to another user's
// process is that process's proxy, as it could be anyway. A process that
// made itself non-dumpable shows as root's in /proc and is found only for
// root's sockets (otherwise the caller is unidentified).
//
// PID reuse. The executable and cgroup are read from /proc/<pid>, and a
// pid names a different process once the original has exited and been
// reaped. Every lookup therefore holds a pidfd for the process (from
// SO_PEERPIDFD, which the kernel binds to the connecting process itself, or
// from pidfd_open) and, after reading /proc/<pid>, checks with
// pidfd_send_signal(pidfd, 0) that the process is still alive, and on TCP
// that the fd found holding the socket still does. A pid is never reused
// while its process exists, so if the pidfd's process is alive after the
// reads, the reads were of that process. If it died in between, the lookup
// fails (and the caller is treated as unidentified) rather than
// attributing another process's executable to the connection.
//
// Executable. Exe is the path the kernel reports for /proc/<pid>/exe, which
// for a process in another mount namespace is a path in that namespace and
// proves nothing in ossd's. ExeFile is the device and inode of the running
// executable itself (stat(2) through /proc/<pid>/exe), which [access]
// compares with the file at a configured path as ossd sees it.
//
// [access]: github.com/ossd/ossd/internal/access
package peer

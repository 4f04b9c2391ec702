// Package peer identifies the local process at the other end of a
// connection: uid, gid, supplementary groups, pid, executable and cgroup.
//
// On a Unix socket the kernel vouches for the peer (SO_PEERCRED, and
// SO_PEERPIDFD where the kernel has it). On loopback TCP the peer is found
// by the connection's socket inode: /proc/net/tcp{,6} maps the four-tuple to
// an inode, and the process holding that inode is found under /proc/*/fd.
//
// PID reuse. The executable and cgroup are read from /proc/<pid>, and a
// pid names a different process once the original has exited and been
// reaped. Every lookup therefore holds a pidfd for the process (from
// SO_PEERPIDFD, which the kernel binds to the connecting process itself, or
// from pidfd_open) and, after reading /proc/<pid>, checks with
// pidfd_send_signal(pidfd, 0) that the process is still alive. A pid is
// never reused while its process exists, so if the pidfd's process is alive
// after the reads, the reads were of that process. If it died in between,
// the lookup fails (and the caller is treated as unidentified) rather than
// attributing another process's executable to the connection.
package peer

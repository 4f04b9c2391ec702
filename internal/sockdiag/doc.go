// Package sockdiag asks the kernel about one TCP or Unix socket over
// NETLINK_SOCK_DIAG (inet_diag, the interface behind ss(8)): given a
// connection's four-tuple it returns the socket's owner uid and inode in a
// single request and reply, whatever the number of sockets and processes on
// the host. For a Unix socket, unix_diag names the inode of its peer, the
// other end of the connection ([Conn.UnixPeer]).
//
// The uid is the one the socket was created with (the creating process's
// filesystem uid), translated into the user namespace of the process that
// opened the [Conn]; the inode is the one /proc/<pid>/fd links name as
// "socket:[inode]". Lookups are answered for the network namespace the Conn
// was opened in.
//
// A Conn is safe for concurrent use: requests are serialised on one netlink
// socket, each answered within the kernel's sendmsg. Close releases it.
package sockdiag

// Package daemonid lets a client check that the socket it reached is served
// by the daemon it means to ask, not by a listener another local user put
// at that path.
//
// On a connected Unix socket, SO_PEERCRED reports the credentials the
// listening process had when it called listen(2): the kernel vouches for
// them, and the listener cannot change them afterwards. A client accepts the
// daemon when that uid is root, or is the uid it expects:
//
//   - the uid given by --daemon-uid, else by $OSSD_DAEMON_UID;
//   - otherwise the client's own effective uid, so that a user's own daemon
//     (under $XDG_RUNTIME_DIR or /tmp/ossd-UID) needs no flag.
//
// Root is always accepted: root can replace any file and read any process,
// so refusing it would protect nothing, and under systemd socket activation
// the listener is systemd's, which is root's whatever user the service runs
// as. A process of the client's own uid can already read the client's
// memory, so accepting it by default gives nothing away. Any other uid is
// refused with a [*WrongDaemonError], before a byte is sent: a hijacked
// socket neither learns the request nor hands out credentials.
//
// The check needs only golang.org/x/sys/unix, so that the lean
// credential-process binary can afford it. Everything here is safe for
// concurrent use.
package daemonid

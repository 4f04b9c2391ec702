package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrNotFound means the kernel knows no socket with that four-tuple.
var ErrNotFound = errors.New("no such socket")

// ErrUnsupported means the kernel cannot answer inet_diag requests (no
// NETLINK_SOCK_DIAG, or no inet_diag/tcp_diag).
var ErrUnsupported = errors.New("sock_diag unavailable")

// Socket is what the kernel reports about a socket.
type Socket struct {
	UID   uint32 // owner: the uid the socket was created with
	Inode uint64 // the inode /proc/<pid>/fd/* links name; 0 for a socket no file holds (TIME_WAIT)
}

// Sizes and offsets of the kernel's structures (linux/inet_diag.h,
// linux/unix_diag.h, linux/netlink.h).
const (
	nlmsgHdrLen = 16 // struct nlmsghdr
	reqLen      = 56 // struct inet_diag_req_v2
	msgLen      = 72 // struct inet_diag_msg
	msgUIDOff   = 64 // inet_diag_msg.idiag_uid
	msgInodeOff = 68 // inet_diag_msg.idiag_inode
	noCookie    = 0xffffffff
	tcpListen   = 10 // TCP_LISTEN

	// linux/unix_diag.h
	unixReqLen    = 24 // struct unix_diag_req
	unixMsgLen    = 16 // struct unix_diag_msg
	unixShowPeer  = 4  // UDIAG_SHOW_PEER
	unixShowIcons = 8  // UDIAG_SHOW_ICONS
	unixDiagPeer  = 2  // UNIX_DIAG_PEER
	unixDiagIcons = 3  // UNIX_DIAG_ICONS
)

// Conn is a NETLINK_SOCK_DIAG socket.
type Conn struct {
	mu  sync.Mutex // guards fd use, seq and buf
	fd  int
	seq uint32
	buf []byte
}

// Open opens a sock_diag socket and checks that it answers inet_diag
// requests for TCP. Without that support the error wraps [ErrUnsupported].
func Open() (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("%w: open netlink socket: %v", ErrUnsupported, err)
	}
	// A reply comes within the request's sendmsg; the timeout only guards
	// against waiting forever on a kernel that never answers.
	tv := unix.Timeval{Sec: 2}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sock_diag: set receive timeout: %w", err)
	}
	c := &Conn{fd: fd, buf: make([]byte, 32<<10)}
	if err := c.probe(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	return err
}

// TCP returns the TCP socket whose local address is local and whose remote
// address is remote. IPv4-mapped IPv6 addresses name the IPv4 connection,
// which the kernel finds whether its socket is AF_INET or a dual-stack
// AF_INET6 one.
func (c *Conn) TCP(local, remote netip.AddrPort) (Socket, error) {
	return c.roundTrip(func(seq uint32) ([]byte, error) { return request(seq, local, remote) }, decodeInet)
}

// UnixPeer returns the inode of the socket at the other end of the Unix
// socket whose inode is ino (unix_diag, UDIAG_SHOW_PEER): for a connection
// ossd accepted, the client's socket, which /proc/<pid>/fd links of every
// process holding it name. Only the Inode of the result is set; 0 means the
// kernel reported no peer.
func (c *Conn) UnixPeer(ino uint64) (Socket, error) {
	if ino > 0xffffffff {
		return Socket{}, fmt.Errorf("sock_diag: inode %d out of unix_diag's range", ino)
	}
	return c.roundTrip(func(seq uint32) ([]byte, error) { return unixRequest(seq, uint32(ino), unixShowPeer), nil }, decodeUnixPeer)
}

// UnixQueue returns the inodes of the client sockets whose connections wait,
// not yet accepted, in the queue of the listening Unix socket whose inode is
// ino (unix_diag, UDIAG_SHOW_ICONS), in the order they will be accepted.
func (c *Conn) UnixQueue(ino uint64) ([]uint64, error) {
	if ino > 0xffffffff {
		return nil, fmt.Errorf("sock_diag: inode %d out of unix_diag's range", ino)
	}
	var queued []uint64
	_, err := c.roundTrip(func(seq uint32) ([]byte, error) { return unixRequest(seq, uint32(ino), unixShowIcons), nil },
		func(m []byte) (Socket, bool) {
			var ok bool
			queued, ok = decodeUnixQueue(m)
			return Socket{}, ok
		})
	return queued, err
}

// roundTrip sends the request build makes for the next sequence number
// and decodes the answer to it.
func (c *Conn) roundTrip(build func(seq uint32) ([]byte, error), decode func(m []byte) (Socket, bool)) (Socket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return Socket{}, fmt.Errorf("sock_diag: %w", unix.EBADF)
	}
	c.seq++
	req, err := build(c.seq)
	if err != nil {
		return Socket{}, err
	}
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Socket{}, fmt.Errorf("sock_diag: send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			return Socket{}, fmt.Errorf("sock_diag: receive: %w", err)
		}
		s, done, err := c.parse(c.buf[:n], decode)
		if done {
			return s, err
		}
	}
}

// unixRequest encodes one unix_diag_req for the socket with inode ino,
// asking for what show (a UDIAG_SHOW_* flag) names.
func unixRequest(seq, ino, show uint32) []byte {
	b := make([]byte, nlmsgHdrLen+unixReqLen)
	header(b, unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_REQUEST, seq)
	r := b[nlmsgHdrLen:]
	r[0] = unix.AF_UNIX
	binary.NativeEndian.PutUint32(r[4:], 0xffffffff) // udiag_states: any
	binary.NativeEndian.PutUint32(r[8:], ino)
	binary.NativeEndian.PutUint32(r[12:], show)
	binary.NativeEndian.PutUint32(r[16:], noCookie)
	binary.NativeEndian.PutUint32(r[20:], noCookie)
	return b
}

// decodeInet reads an inet_diag_msg.
func decodeInet(m []byte) (Socket, bool) {
	if len(m) < msgLen {
		return Socket{}, false
	}
	return Socket{UID: binary.NativeEndian.Uint32(m[msgUIDOff:]), Inode: uint64(binary.NativeEndian.Uint32(m[msgInodeOff:]))}, true
}

// decodeUnixPeer reads a unix_diag_msg and the UNIX_DIAG_PEER attribute
// that follows it.
func decodeUnixPeer(m []byte) (Socket, bool) {
	v, ok := unixAttr(m, unixDiagPeer)
	if !ok {
		return Socket{}, false
	}
	if len(v) < 4 {
		return Socket{}, true // a socket with no peer
	}
	return Socket{Inode: uint64(binary.NativeEndian.Uint32(v))}, true
}

// decodeUnixQueue reads a unix_diag_msg and the UNIX_DIAG_ICONS attribute
// that follows it: one 32-bit inode per queued connection.
func decodeUnixQueue(m []byte) ([]uint64, bool) {
	v, ok := unixAttr(m, unixDiagIcons)
	if !ok {
		return nil, false
	}
	var inodes []uint64 // none: not listening, or nothing queued
	for ; len(v) >= 4; v = v[4:] {
		inodes = append(inodes, uint64(binary.NativeEndian.Uint32(v)))
	}
	return inodes, true
}

// unixAttr returns the payload of the attribute of type typ that follows
// the unix_diag_msg in m, nil if there is none; ok is false if m is too
// short to be a unix_diag_msg.
func unixAttr(m []byte, typ uint16) (v []byte, ok bool) {
	if len(m) < unixMsgLen {
		return nil, false
	}
	for a := m[unixMsgLen:]; len(a) >= 4; {
		l, t := int(binary.NativeEndian.Uint16(a[0:])), binary.NativeEndian.Uint16(a[2:])
		if l < 4 || l > len(a) {
			break
		}
		if t == typ {
			return a[4:l], true
		}
		a = a[min(nlmsgAlign(l), len(a)):]
	}
	return nil, true
}

// request encodes one inet_diag_req_v2 for an exact four-tuple.
func request(seq uint32, local, remote netip.AddrPort) ([]byte, error) {
	la, ra := local.Addr().Unmap(), remote.Addr().Unmap()
	if la.Is4() != ra.Is4() || !la.IsValid() || !ra.IsValid() {
		return nil, fmt.Errorf("sock_diag: mismatched addresses %s and %s", local, remote)
	}
	b := make([]byte, nlmsgHdrLen+reqLen)
	header(b, unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_REQUEST, seq)
	r := b[nlmsgHdrLen:]
	r[0], r[1] = unix.AF_INET6, unix.IPPROTO_TCP
	if la.Is4() {
		r[0] = unix.AF_INET
	}
	binary.NativeEndian.PutUint32(r[4:], 0xffffffff) // idiag_states: any
	id := r[8:]                                      // struct inet_diag_sockid
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	putAddr(id[4:20], la)
	putAddr(id[20:36], ra)
	binary.NativeEndian.PutUint32(id[40:], noCookie)
	binary.NativeEndian.PutUint32(id[44:], noCookie)
	return b, nil
}

func putAddr(dst []byte, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		copy(dst, b[:])
		return
	}
	b := a.As16()
	copy(dst, b[:])
}

func header(b []byte, typ, flags uint16, seq uint32) {
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
}

// parse reads the messages of one datagram. done reports whether the
// answer to the current request was among them; decode reads the answer's
// payload.
func (c *Conn) parse(b []byte, decode func(m []byte) (Socket, bool)) (s Socket, done bool, err error) {
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b[0:]))
		if n < nlmsgHdrLen || n > len(b) {
			return Socket{}, true, errors.New("sock_diag: truncated reply")
		}
		typ, seq, m := binary.NativeEndian.Uint16(b[4:]), binary.NativeEndian.Uint32(b[8:]), b[nlmsgHdrLen:n]
		b = b[min(nlmsgAlign(n), len(b)):]
		if seq != c.seq {
			continue // a late answer to an earlier request
		}
		switch {
		case typ == unix.NLMSG_ERROR && len(m) >= 4:
			errno := unix.Errno(-int32(binary.NativeEndian.Uint32(m)))
			if errno == 0 {
				continue // an acknowledgement, which was not asked for
			}
			if errno == unix.ENOENT {
				return Socket{}, true, ErrNotFound
			}
			return Socket{}, true, fmt.Errorf("sock_diag: %w", errno)
		case typ == unix.SOCK_DIAG_BY_FAMILY:
			if s, ok := decode(m); ok {
				return s, true, nil
			}
		}
	}
	return Socket{}, false, nil
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// probe dumps the host's listening IPv4 TCP sockets once. A kernel without
// inet_diag for TCP answers an exact lookup and a missing module alike
// (ENOENT); a dump tells them apart.
func (c *Conn) probe() error {
	c.seq++
	b := make([]byte, nlmsgHdrLen+reqLen)
	header(b, unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, c.seq)
	r := b[nlmsgHdrLen:]
	r[0], r[1] = unix.AF_INET, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(r[4:], 1<<tcpListen)
	if err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("%w: send: %v", ErrUnsupported, err)
	}
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err != nil {
			return fmt.Errorf("%w: receive: %v", ErrUnsupported, err)
		}
		for m := c.buf[:n]; len(m) >= nlmsgHdrLen; {
			l := int(binary.NativeEndian.Uint32(m[0:]))
			if l < nlmsgHdrLen || l > len(m) {
				return fmt.Errorf("%w: truncated reply", ErrUnsupported)
			}
			switch binary.NativeEndian.Uint16(m[4:]) {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if l < nlmsgHdrLen+4 {
					return fmt.Errorf("%w: truncated error", ErrUnsupported)
				}
				return fmt.Errorf("%w: %v", ErrUnsupported, unix.Errno(-int32(binary.NativeEndian.Uint32(m[nlmsgHdrLen:]))))
			}
			m = m[min(nlmsgAlign(l), len(m)):]
		}
	}
}

package sockdiag

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func open(t *testing.T) *Conn {
	t.Helper()
	c, err := Open()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("kernel without inet_diag: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inodeOf returns the inode of the socket behind c.
func inodeOf(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	raw.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) })
	if err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// pair connects a client to a fresh listener on network and addr and
// returns the client's and the server's end.
func pair(t *testing.T, network, listen, dial string) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, listen)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, listen, err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	client, err = net.Dial(network, net.JoinHostPort(dial, port))
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func addrs(c net.Conn) (remote, local netip.AddrPort) {
	return c.RemoteAddr().(*net.TCPAddr).AddrPort(), c.LocalAddr().(*net.TCPAddr).AddrPort()
}

func TestTCP(t *testing.T) {
	d := open(t)
	tests := []struct{ name, network, listen, dial string }{
		{"ipv4", "tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "tcp6", "[::1]:0", "::1"},
		// A dual-stack listener sees an IPv4 client as ::ffff:127.0.0.1.
		{"ipv4 client of a dual-stack listener", "tcp", "[::]:0", "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := pair(t, tc.network, tc.listen, tc.dial)
			remote, local := addrs(server)
			s, err := d.TCP(remote, local) // the client's socket: local is the client's address
			if err != nil {
				t.Fatalf("TCP(%s, %s): %v", remote, local, err)
			}
			if want := inodeOf(t, client.(*net.TCPConn)); s.Inode != want || s.UID != uint32(os.Geteuid()) {
				t.Errorf("TCP(%s, %s) = %+v, want inode %d uid %d", remote, local, s, want, os.Geteuid())
			}
			// The same connection seen from the other end is the server's socket.
			if s, err := d.TCP(local, remote); err != nil || s.Inode != inodeOf(t, server.(*net.TCPConn)) {
				t.Errorf("server end: %+v %v", s, err)
			}
		})
	}
}

// TestTCPMappedClient: a dual-stack client socket (AF_INET6) connected to
// ::ffff:127.0.0.1 is an IPv4 connection; the server sees IPv4 addresses.
func TestTCPMappedClient(t *testing.T) {
	d := open(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	defer unix.Close(fd)
	unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	to := &unix.SockaddrInet6{Port: ln.Addr().(*net.TCPAddr).Port, Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}
	if err := unix.Connect(fd, to); err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	remote, local := addrs(c)
	if s, err := d.TCP(remote, local); err != nil || s.Inode != st.Ino {
		t.Errorf("TCP(%s, %s) = %+v, %v; want inode %d", remote, local, s, err, st.Ino)
	}
	// The same tuple written as v4-mapped addresses names the same socket.
	mapped := func(a netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
	}
	if s, err := d.TCP(mapped(remote), mapped(local)); err != nil || s.Inode != st.Ino {
		t.Errorf("TCP(%s, %s) = %+v, %v; want inode %d", mapped(remote), mapped(local), s, err, st.Ino)
	}
}

func TestTCPNotFound(t *testing.T) {
	d := open(t)
	_, err := d.TCP(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("TCP(no such socket) = %v, want ErrNotFound", err)
	}
	if _, err := d.TCP(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:2")); err == nil {
		t.Error("TCP accepted an IPv4 and an IPv6 address together")
	}
}

// TestTCPOwner: the uid is the one the socket was created with, whoever
// asks.
func TestTCPOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a socket as another user")
	}
	d := open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd := socketAs(t, 4243)
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: ln.Addr().(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	remote, local := addrs(c)
	if s, err := d.TCP(remote, local); err != nil || s.UID != 4243 {
		t.Errorf("TCP = %+v, %v; want uid 4243", s, err)
	}
}

// socketAs creates a TCP socket with filesystem uid uid, as a process of
// that user would. setfsuid(2) changes only the calling thread.
func socketAs(t *testing.T, uid int) int {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	unix.Setfsuid(uid)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	unix.Setfsuid(0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestUnixPeer: for the server end of an accepted Unix connection,
// UnixPeer names the client's socket inode, the one /proc/<pid>/fd links
// of the client name; for a socket with no peer (a listener) it reports 0.
func TestUnixPeer(t *testing.T) {
	c := open(t)
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	got, err := c.UnixPeer(inodeOf(t, server.(*net.UnixConn)))
	if err != nil {
		t.Fatal(err)
	}
	if want := inodeOf(t, client.(*net.UnixConn)); got.Inode != want {
		t.Errorf("UnixPeer(server) = inode %d, want the client's %d", got.Inode, want)
	}
	if got, err := c.UnixPeer(inodeOf(t, ln.(*net.UnixListener))); err != nil || got.Inode != 0 {
		t.Errorf("UnixPeer(listener) = %+v, %v; want no peer", got, err)
	}
}

// TestUnixQueue: connections made to a listener that has not accepted them
// are reported by the inodes of their client sockets, in order, and each
// leaves the list once accepted.
func TestUnixQueue(t *testing.T) {
	c := open(t)
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lino := inodeOf(t, ln.(*net.UnixListener))
	if got, err := c.UnixQueue(lino); err != nil || len(got) != 0 {
		t.Fatalf("UnixQueue(idle listener) = %v, %v; want none", got, err)
	}
	var want []uint64
	for range 3 {
		client, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		want = append(want, inodeOf(t, client.(*net.UnixConn)))
	}
	got, err := c.UnixQueue(lino)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("UnixQueue = %v, %v; want the clients' %v", got, err, want)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if got, err := c.UnixQueue(lino); err != nil || !slices.Equal(got, want[1:]) {
		t.Errorf("after one Accept, UnixQueue = %v, %v; want %v", got, err, want[1:])
	}
}

// FuzzParse feeds netlink datagrams to the reply parser, with the inet
// and the unix decoders: it never panics, a socket it reports came from a
// message of the request's sequence number, and a queue it reports has no
// more inodes than the message has 32-bit words.
func FuzzParse(f *testing.F) {
	msg := func(typ uint16, seq uint32, payload []byte) []byte {
		b := make([]byte, nlmsgHdrLen+len(payload))
		header(b, typ, 0, seq)
		copy(b[nlmsgHdrLen:], payload)
		return b
	}
	reply := make([]byte, msgLen)
	binary.NativeEndian.PutUint32(reply[msgUIDOff:], 4242)
	binary.NativeEndian.PutUint32(reply[msgInodeOff:], 99)
	f.Add(msg(unix.SOCK_DIAG_BY_FAMILY, 1, reply))
	f.Add(msg(unix.NLMSG_ERROR, 1, []byte{0xfe, 0xff, 0xff, 0xff}))
	f.Add(append(msg(unix.SOCK_DIAG_BY_FAMILY, 7, reply), msg(unix.SOCK_DIAG_BY_FAMILY, 1, reply)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range []func([]byte) (Socket, bool){decodeInet, decodeUnixPeer} {
			c := &Conn{seq: 1}
			s, done, err := c.parse(b, decode)
			if !done && (err != nil || s != (Socket{})) {
				t.Fatalf("parse = %+v %v without an answer", s, err)
			}
		}
		if q, _ := decodeUnixQueue(b); len(q) > len(b)/4 {
			t.Fatalf("decodeUnixQueue read %d inodes from %d bytes", len(q), len(b))
		}
	})
}

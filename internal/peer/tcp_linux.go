package peer

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd/internal/sockdiag"
)

// TCP identifies the local process that owns the client end of a
// loopback TCP connection: client is the connection's remote address as
// the server sees it, server its local address. A peer that is not a
// process on this host (or not in this network namespace) is ErrUnknown.
func (f *Finder) TCP(client, server netip.AddrPort) (Identity, error) {
	f.stats.tcp.Add(1)
	sock, err := f.socket(client, server)
	if err != nil {
		return Identity{}, err
	}
	if sock.Inode == 0 {
		return Identity{}, fmt.Errorf("%w: socket %s -> %s is no longer open", ErrUnknown, client, server)
	}
	h, err := f.findHolder(sock.UID, sock.Inode)
	if err != nil {
		return Identity{}, err
	}
	pidfd, err := unix.PidfdOpen(h.pid, 0)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: pid %d: %v", ErrUnknown, h.pid, err)
	}
	defer unix.Close(pidfd)
	dir, err := f.openPID(h.pid)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: pid %d: %v", ErrUnknown, h.pid, err)
	}
	defer unix.Close(dir)
	id := Identity{Known: true, UID: sock.UID, PID: int32(h.pid)}
	id.GID = f.readProc(dir, &id)
	// The pidfd pins the identity of pid only while the process lives, and
	// the fd scan proves it held the socket: check both again after the reads.
	if !alive(pidfd) || !f.holdsAt(dir, h, sock.Inode) {
		return Identity{}, fmt.Errorf("%w: pid %d exited or let go of the socket during the lookup", ErrUnknown, h.pid)
	}
	return id, nil
}

// socket returns the owner and inode of the client's socket: from
// sock_diag, or from /proc/net/tcp{,6} without it.
func (f *Finder) socket(client, server netip.AddrPort) (sockdiag.Socket, error) {
	if f.diag == nil {
		uid, inode, err := f.findSocket(client, server)
		return sockdiag.Socket{UID: uid, Inode: inode}, err
	}
	s, err := f.diag.TCP(client, server)
	if err != nil {
		return s, fmt.Errorf("%w: socket %s -> %s: %v", ErrUnknown, client, server, err)
	}
	return s, nil
}

// findSocket finds the client's socket in /proc/net/tcp{,6} and returns
// its owner uid and inode.
func (f *Finder) findSocket(client, server netip.AddrPort) (uint32, uint64, error) {
	for _, file := range []string{"/net/tcp", "/net/tcp6"} {
		f.stats.opened.Add(1)
		fh, err := os.Open(f.root + file)
		if err != nil {
			continue
		}
		uid, inode, ok := scanTCP(fh, client, server)
		fh.Close()
		if ok {
			return uid, inode, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no local socket %s -> %s", ErrUnknown, client, server)
}

// scanTCP looks for the line whose local address is client and remote
// address is server.
func scanTCP(f *os.File, client, server netip.AddrPort) (uid uint32, inode uint64, ok bool) {
	s := bufio.NewScanner(f)
	s.Scan() // header
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 10 {
			continue
		}
		local, err1 := parseProcAddr(fields[1])
		remote, err2 := parseProcAddr(fields[2])
		if err1 != nil || err2 != nil || !sameAddr(local, client) || !sameAddr(remote, server) {
			continue
		}
		u, err1 := strconv.ParseUint(fields[7], 10, 32)
		n, err2 := strconv.ParseUint(fields[9], 10, 64)
		if err1 != nil || err2 != nil || n == 0 {
			continue
		}
		return uint32(u), n, true
	}
	return 0, 0, false
}

// sameAddr compares addresses, treating IPv4-mapped IPv6 as IPv4.
func sameAddr(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// parseProcAddr parses "0100007F:1F90": the address as 32-bit words in
// host (little-endian) order, then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

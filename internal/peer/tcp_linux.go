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
)

// FromTCP identifies the local process that owns the client end of a
// loopback TCP connection: client is the connection's remote address as
// the server sees it, server its local address. A peer that is not a
// process on this host (or not in this network namespace) is ErrUnknown.
func FromTCP(client, server netip.AddrPort) (Identity, error) {
	return fromTCP("/proc", client, server)
}

func fromTCP(procRoot string, client, server netip.AddrPort) (Identity, error) {
	uid, inode, err := findSocket(procRoot, client, server)
	if err != nil {
		return Identity{}, err
	}
	pid, err := findHolder(procRoot, inode)
	if err != nil {
		return Identity{}, err
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: pid %d: %v", ErrUnknown, pid, err)
	}
	defer unix.Close(pidfd)
	id := Identity{Known: true, UID: uid, PID: int32(pid)}
	id.GID = readProc(procRoot, &id)
	// The pidfd pins the identity of pid only while the process lives, and
	// the fd scan proves it held the socket: check both again after the reads.
	if !alive(pidfd) || !holds(procRoot, pid, inode) {
		return Identity{}, fmt.Errorf("%w: pid %d exited or let go of the socket during the lookup", ErrUnknown, pid)
	}
	return id, nil
}

// findSocket finds the client's socket in /proc/net/tcp{,6} and returns
// its owner uid and inode.
func findSocket(procRoot string, client, server netip.AddrPort) (uint32, uint64, error) {
	for _, file := range []string{"/net/tcp", "/net/tcp6"} {
		f, err := os.Open(procRoot + file)
		if err != nil {
			continue
		}
		uid, inode, ok := scanTCP(f, client, server)
		f.Close()
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

// findHolder returns the one pid with an fd open on socket inode. A socket
// held by several processes (passed on, or inherited across a fork) does
// not say which of them is asking: that is ErrUnknown.
func findHolder(procRoot string, inode uint64) (int, error) {
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnknown, err)
	}
	found := 0
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || !holds(procRoot, pid, inode) {
			continue
		}
		if found != 0 {
			return 0, fmt.Errorf("%w: socket inode %d is held by more than one process", ErrUnknown, inode)
		}
		found = pid
	}
	if found == 0 {
		return 0, fmt.Errorf("%w: no process holds socket inode %d", ErrUnknown, inode)
	}
	return found, nil
}

// holds reports whether pid has an fd open on socket inode.
func holds(procRoot string, pid int, inode uint64) bool {
	dir := procRoot + "/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	for _, fd := range fds {
		if l, err := os.Readlink(dir + "/" + fd.Name()); err == nil && l == want {
			return true
		}
	}
	return false
}

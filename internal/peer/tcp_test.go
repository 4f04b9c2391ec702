package peer

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run helpers as other users")
	}
}

// listen returns a loopback TCP listener closed when the test ends.
func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTCPOtherUser: a client of another uid is found among that uid's
// processes, with its real gid and its executable's file.
func TestTCPOtherUser(t *testing.T) {
	needRoot(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln := listen(t, addr)
		pid, cmd := spawn(t, helper{dial: ln.Addr().String(), uid: 4242})
		id, err := newFinder(t).TCP(remoteLocal(accept(t, ln)))
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if !id.Known || id.UID != 4242 || id.GID != 4242 || id.PID != int32(pid) || id.Exe != cmd.Path || id.ExeFile != fileOf(t, cmd.Path) || id.NS != NSOwn {
			t.Errorf("%s: TCP = %+v, want uid 4242 pid %d exe %s", addr, id, pid, cmd.Path)
		}
	}
}

// TestTCPNotDumpable: a process that made itself non-dumpable shows as
// root's in /proc; it is still found as its user's, from its status.
func TestTCPNotDumpable(t *testing.T) {
	needRoot(t)
	ln := listen(t, "127.0.0.1:0")
	pid, _ := spawn(t, helper{dial: ln.Addr().String(), uid: 4242, nodump: true})
	id, err := newFinder(t).TCP(remoteLocal(accept(t, ln)))
	if err != nil || id.PID != int32(pid) || id.UID != 4242 {
		t.Errorf("TCP = %+v, %v; want pid %d uid 4242", id, err, pid)
	}
}

// TestTCPOtherUsersFDs: what a lookup reads does not depend on another
// user's fds. The same client, as two users with the same processes, is
// looked up without and with a process of uid 4623 holding 5,000 fds; both
// lookups open exactly as many entries.
func TestTCPOtherUsersFDs(t *testing.T) {
	needRoot(t)
	f := newFinder(t)
	ln := listen(t, "127.0.0.1:0")
	opened := func(uid int) uint64 {
		spawn(t, helper{dial: ln.Addr().String(), uid: uid})
		c := accept(t, ln)
		f.TCP(remoteLocal(c)) // warms the process table with this helper in it
		spawn(t, helper{dial: ln.Addr().String(), uid: uid})
		c = accept(t, ln)
		before := f.Stats().Opened
		if _, err := f.TCP(remoteLocal(c)); err != nil {
			t.Fatal(err)
		}
		return f.Stats().Opened - before
	}
	// uids no other test uses: the counts include every process of the user.
	alone := opened(4621)
	spawn(t, helper{hold: 5000, uid: 4623})
	crowded := opened(4622)
	if alone != crowded || alone > 64 {
		t.Errorf("a lookup opened %d /proc entries alone and %d beside 5,000 fds of another user; want equal and at most 64", alone, crowded)
	}
}

// TestTCPConnectionsCached: a client that opened two connections is
// scanned once; the second connection's holder comes from that scan.
func TestTCPConnectionsCached(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	uid := -1
	if os.Geteuid() == 0 {
		uid = 4624 // a user with one process (no other test uses it): the scan is the helper's alone
	}
	pid, _ := spawn(t, helper{dial: ln.Addr().String(), uid: uid, conns: 2})
	c1, c2 := accept(t, ln), accept(t, ln)
	f := newFinder(t)
	if id, err := f.TCP(remoteLocal(c1)); err != nil || id.PID != int32(pid) {
		t.Fatalf("first: %+v %v", id, err)
	}
	before := f.Stats()
	if id, err := f.TCP(remoteLocal(c2)); err != nil || id.PID != int32(pid) {
		t.Fatalf("second: %+v %v", id, err)
	}
	after := f.Stats()
	// The second lookup opens only the holder's /proc entries: its directory,
	// six reads, and the fd directory and link of the recheck.
	if after.Scans == before.Scans && after.Opened-before.Opened > 9 {
		t.Errorf("second lookup opened %d entries, want at most 9 (no fd scan)", after.Opened-before.Opened)
	}
}

// TestTCPFallback: without sock_diag, /proc/net/tcp finds the socket.
func TestTCPFallback(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	pid, _ := child(t, ln.Addr().String(), -1, false)
	f := newFinder(t)
	f.diag.Close()
	f.diag = nil
	if id, err := f.TCP(remoteLocal(accept(t, ln))); err != nil || id.PID != int32(pid) {
		t.Errorf("TCP without sock_diag = %+v, %v; want pid %d", id, err, pid)
	}
}

// TestForeignNamespaces: a caller in a private user and mount namespace
// (unshare -rm) is reported as such, on both transports.
func TestForeignNamespaces(t *testing.T) {
	needRoot(t)
	if out, err := exec.Command("unshare", "-rm", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -rm: %v %s", err, out)
	}
	ln := listen(t, "127.0.0.1:0")
	spawn(t, helper{dial: ln.Addr().String(), uid: 4242, argv: []string{"unshare", "-rm", "--"}})
	f := newFinder(t)
	if id, err := f.TCP(remoteLocal(accept(t, ln))); err != nil || id.NS != "mnt,user" || id.UID != 4242 {
		t.Errorf("TCP = %+v, %v; want uid 4242 in namespaces mnt,user", id, err)
	}
	path := publicDir(t) + "/s"
	uln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	os.Chmod(path, 0o777)
	spawn(t, helper{dial: path, uid: 4242, argv: []string{"unshare", "-rm", "--"}})
	c, err := uln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, err := f.Unix(c.(*net.UnixConn)); err != nil || id.NS != "mnt,user" || id.UID != 4242 {
		t.Errorf("Unix = %+v, %v; want uid 4242 in namespaces mnt,user", id, err)
	}
}

// TestScanRemembersOnlyWhatItSaw: a socket seen in another process while
// the holder was read only in part may be shared with that part; it is
// not remembered as that process's alone. Here this process holds socket
// S (low fd) and the new connection W (higher fd), and a child holds S too.
func TestScanRemembersOnlyWhatItSaw(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	cS, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cS.Close()
	sS := accept(t, ln)
	dup, err := cS.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer dup.Close()
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{dup}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	cW, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cW.Close()
	sW := accept(t, ln)

	f := newFinder(t)
	sockOf := func(c net.Conn) uint64 {
		s, err := f.socket(remoteLocal(c))
		if err != nil {
			t.Fatal(err)
		}
		return s.Inode
	}
	pids, gen := f.owned(uint32(os.Geteuid()), false)
	if h := f.scan(pids, gen, sockOf(sW)); h.pid != os.Getpid() {
		t.Fatalf("holder of W = %+v, want this process %d", h, os.Getpid())
	}
	if h, ok := f.held.take(gen, sockOf(sS)); ok && h.pid > 0 {
		t.Errorf("S remembered as pid %d's alone; this process holds it too", h.pid)
	}
}

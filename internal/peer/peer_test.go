package peer

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain doubles as a helper process (see helperMain).
func TestMain(m *testing.M) {
	if os.Getenv("PEER_HELPER") != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

// child runs the test binary as a client of addr, as uid if uid >= 0.
func child(t *testing.T, addr string, uid int, exit bool) (pid int, cmd *exec.Cmd) {
	t.Helper()
	return spawn(t, helper{dial: addr, uid: uid, exit: exit})
}

// publicCopy copies bin where another user may run it: go test keeps its
// binary in a directory only the test's user can enter.
func publicCopy(t testing.TB, bin string) string {
	t.Helper()
	dir := publicDir(t)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "client")
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// publicDir makes a directory every user may enter.
func publicDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "peer-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newFinder returns a Finder closed when the test ends.
func newFinder(t testing.TB) *Finder {
	f := New(Options{})
	t.Cleanup(func() { f.Close() })
	return f
}

// remoteLocal returns the client's and the server's address of the
// accepted connection c.
func remoteLocal(c net.Conn) (client, server netip.AddrPort) {
	return c.RemoteAddr().(*net.TCPAddr).AddrPort(), c.LocalAddr().(*net.TCPAddr).AddrPort()
}

func fileOf(t testing.TB, path string) FileID {
	t.Helper()
	id, err := FileOf(path)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func exe(t *testing.T) string {
	p, err := filepath.EvalSymlinks(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p, _ = filepath.Abs(p)
	return p
}

func TestFromUnix(t *testing.T) {
	path := filepath.Join(publicDir(t), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Chmod(path, 0o777)
	uid := -1
	if os.Geteuid() == 0 {
		uid = 4242 // a different user: the test is root, as in CI
	}
	pid, cmd := child(t, path, uid, false)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := newFinder(t)
	id, err := f.Unix(c.(*net.UnixConn))
	if err != nil {
		t.Fatal(err)
	}
	wantUID := uint32(os.Geteuid())
	if uid >= 0 {
		wantUID = uint32(uid)
	}
	if !id.Known || id.UID != wantUID || id.GID != wantUID || id.PID != int32(pid) || id.Exe != cmd.Path || id.Cgroup == "" || id.NS != NSOwn {
		t.Errorf("Unix = %+v, want uid %d pid %d exe %s, a cgroup and ossd's namespaces", id, wantUID, pid, cmd.Path)
	}
	if want := fileOf(t, cmd.Path); id.ExeFile != want {
		t.Errorf("ExeFile = %v, want %v", id.ExeFile, want)
	}
}

// TestFromUnixPeerGone: the caller exits before the lookup. The kernel's
// pidfd is bound to the exited process, so nothing read from /proc/<pid>
// (which may by then be another process) is attributed to it.
func TestFromUnixPeerGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, cmd := child(t, path, -1, true)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd.Wait() // exited and reaped: its pid may be reused from now on
	id, err := newFinder(t).Unix(c.(*net.UnixConn))
	if err != nil {
		t.Fatal(err)
	}
	if id.Exe != "" || id.Cgroup != "" || !id.ExeFile.IsZero() || id.NS != "" {
		t.Errorf("exited peer attributed exe %q (%v) cgroup %q ns %q", id.Exe, id.ExeFile, id.Cgroup, id.NS)
	}
}

func TestFromTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, _ := child(t, ln.Addr().String(), -1, false)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := newFinder(t)
	id, err := f.TCP(remoteLocal(c))
	if err != nil {
		t.Fatal(err)
	}
	if !id.Known || id.PID != int32(pid) || id.UID != uint32(os.Geteuid()) || id.Exe != exe(t) || id.ExeFile != fileOf(t, exe(t)) || id.NS != NSOwn {
		t.Errorf("TCP = %+v, want pid %d exe %s", id, pid, exe(t))
	}
}

func TestFromTCPUnknown(t *testing.T) {
	_, err := newFinder(t).TCP(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"))
	if err == nil {
		t.Error("identified a connection that does not exist")
	}
}

func TestParseProcAddr(t *testing.T) {
	tests := map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"C8646464:0050":                         "100.100.100.200:80",
		"00000000000000000000000001000000:0050": "[::1]:80",
		"0000000000000000FFFF00000100007F:01BB": "[::ffff:127.0.0.1]:443",
	}
	for in, want := range tests {
		got, err := parseProcAddr(in)
		if err != nil || got.String() != want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "zz:00", "0100007F", "0100007F:xyz", "01007F:0050"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) accepted", bad)
		}
	}
}

func TestParseStatusAndCgroup(t *testing.T) {
	gid, groups := parseStatus("Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t200\t200\t200\nGroups:\t4 24 27 \n")
	if gid != 100 || len(groups) != 3 || groups[2] != 27 {
		t.Errorf("parseStatus = %d %v", gid, groups)
	}
	if got := parseCgroup("0::/system.slice/app.service\n"); got != "/system.slice/app.service" {
		t.Errorf("v2 cgroup = %q", got)
	}
	if got := parseCgroup("12:pids:/docker/abc\n11:cpu:/docker/abc\n"); got != "/docker/abc" {
		t.Errorf("v1 cgroup = %q", got)
	}
}

// TestFromTCPSharedSocket: a socket held by two processes (inherited
// across a fork) does not say which one asks; the peer is unidentified.
func TestFromTCPSharedSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	f, err := client.(*net.TCPConn).File() // a second fd on the same socket
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{f} // the child holds the socket too
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, err := newFinder(t).TCP(remoteLocal(c)); err == nil {
		t.Errorf("TCP = %+v, want unidentified for a socket two processes hold", id)
	}
}

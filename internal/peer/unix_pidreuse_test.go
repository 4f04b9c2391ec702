package peer

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestUnixPeerReusedPidWithoutPeerPidfd: on a kernel without SO_PEERPIDFD
// (before Linux 6.5: Debian 12, Ubuntu 22.04, RHEL 9), Finder.Unix opens a
// pidfd on the pid SO_PEERCRED reported at the time of the lookup, which
// the socket server makes lazily, on the first request. A caller that
// connected and exited (its socket kept by a child) can have its pid
// reused by another user's process by then; that process's exe, cgroup and
// groups must not be attributed to the caller (they were, before the
// lookup checked that the process holds the client's end). A caller that
// is still connected is identified as before. The test emulates the older
// kernel with a seccomp filter that answers getsockopt(SO_PEERPIDFD) with
// ENOPROTOOPT, as such a kernel does, and forces the pid reuse with
// ns_last_pid.
func TestUnixPeerReusedPidWithoutPeerPidfd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: seccomp with TSYNC, ns_last_pid, other uids")
	}
	if os.Getenv("OSSD_PEER_TEST_NO_PEERPIDFD") == "" {
		// The filter stays on the process for good: run the test in a child.
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnixPeerReusedPidWithoutPeerPidfd$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "OSSD_PEER_TEST_NO_PEERPIDFD=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil {
			t.Fatalf("child failed: %v", err)
		}
		return
	}
	noPeerPidfd(t)

	path := filepath.Join(publicDir(t), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Chmod(path, 0o777)

	// A caller that stays connected is still identified in full.
	_, live := child(t, path, 4242, false)
	lc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	lid, err := newFinder(t).Unix(lc.(*net.UnixConn))
	lc.Close()
	live.Process.Kill()
	live.Wait()
	if err != nil || lid.Exe == "" || lid.ExeFile.IsZero() {
		t.Fatalf("a connected caller without SO_PEERPIDFD: %+v, %v; want its exe", lid, err)
	}
	// The attacker, uid 4242, connects and exits.
	pid, cmd := child(t, path, 4242, true)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd.Wait()

	// A process of another user, uid 4343 in group 4444, running another
	// program, is given the attacker's pid.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	var victim *exec.Cmd
	for range 200 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Skipf("ns_last_pid: %v", err)
		}
		v := exec.Command(sleep, "60")
		v.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4343, Gid: 4343, Groups: []uint32{4444}}}
		if err := v.Start(); err != nil {
			t.Fatal(err)
		}
		if v.Process.Pid == pid {
			victim = v
			break
		}
		v.Process.Kill()
		v.Wait()
	}
	if victim == nil {
		t.Skip("could not get the pid reused (a busy machine took it)")
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	// Let the victim exec sleep before the lookup.
	want, _ := FileOf(sleep)
	for range 1000 {
		if f, err := fileAt(unix.AT_FDCWD, "/proc/"+strconv.Itoa(pid)+"/exe"); err == nil && f == want {
			break
		}
	}

	id, err := newFinder(t).Unix(c.(*net.UnixConn))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("identity: uid=%d gid=%d pid=%d exe=%q exe_file=%s groups=%v cgroup=%q", id.UID, id.GID, id.PID, id.Exe, id.ExeFile, id.Groups, id.Cgroup)
	if id.ExeFile == want || id.Exe == sleep || containsGID(id.Groups, 4444) {
		t.Errorf("the connection of uid %d (exited) is attributed the exe %q and groups %v of uid 4343's process that reused its pid",
			id.UID, id.Exe, id.Groups)
	}
}

func containsGID(gs []uint32, g uint32) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// noPeerPidfd makes getsockopt(SOL_SOCKET, SO_PEERPIDFD) fail with
// ENOPROTOOPT in every thread of this process, as on Linux before 6.5.
func noPeerPidfd(t *testing.T) {
	const (
		offNr   = 0
		offArg1 = 16 + 8*1 // level (low 32 bits, little-endian)
		offArg2 = 16 + 8*2 // optname
	)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offNr},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 5, K: unix.SYS_GETSOCKOPT},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offArg1},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: unix.SOL_SOCKET},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offArg2},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SO_PEERPIDFD},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOPROTOOPT)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		t.Fatalf("seccomp: %v", e)
	}
	// The filter works: SO_PEERPIDFD is refused as on an old kernel.
	a, b, err := unixPair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	defer unix.Close(b)
	if _, err := unix.GetsockoptInt(a, unix.SOL_SOCKET, unix.SO_PEERPIDFD); err != unix.ENOPROTOOPT {
		t.Fatalf("SO_PEERPIDFD after the filter: %v, want ENOPROTOOPT", err)
	}
}

func unixPair() (int, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	return fds[0], fds[1], err
}

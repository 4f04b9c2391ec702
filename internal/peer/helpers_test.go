package peer

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// helper describes a helper process: the test binary run with PEER_HELPER.
type helper struct {
	dial   string   // connect to this address (TCP if it parses as one, else a Unix socket)
	conns  int      // connections to open (default 1)
	uid    int      // run as this uid and gid if >= 0
	exit   bool     // exit at once after connecting
	nodump bool     // make itself non-dumpable before connecting
	hold   int      // open this many fds on /dev/null instead of connecting
	argv   []string // run the binary through this command (e.g. unshare) first
}

// helperMain is the helper process: it does what PEER_* says, prints its
// pid, and waits for stdin to close (or exits at once with PEER_EXIT).
func helperMain() int {
	if n, _ := strconv.Atoi(os.Getenv("PEER_HOLD")); n > 0 {
		return holdFDs(n)
	}
	if os.Getenv("PEER_NODUMP") != "" {
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
			fmt.Println("prctl:", err)
			return 1
		}
	}
	addr := os.Getenv("PEER_DIAL")
	network := "unix"
	if _, err := netip.ParseAddrPort(addr); err == nil {
		network = "tcp"
	}
	n, _ := strconv.Atoi(os.Getenv("PEER_CONNS"))
	var conns []net.Conn
	for range max(n, 1) {
		c, err := net.Dial(network, addr)
		if err != nil {
			fmt.Println("dial:", err)
			return 1
		}
		conns = append(conns, c)
	}
	fmt.Println(os.Getpid())
	if os.Getenv("PEER_EXIT") == "" {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// holdFDs opens n fds on /dev/null, as a process of another user with a
// large fd table would hold them.
func holdFDs(n int) int {
	lim := unix.Rlimit{Cur: uint64(n + 64), Max: uint64(n + 64)}
	var cur unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &cur) == nil && cur.Max < lim.Max {
		fmt.Printf("RLIMIT_NOFILE hard limit %d < %d\n", cur.Max, lim.Max)
		return 1
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	for range n - 1 {
		if _, err := unix.Dup(fd); err != nil {
			fmt.Println("dup:", err)
			return 1
		}
	}
	fmt.Println(os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// spawn starts the helper h and returns its pid once it has done its work.
// It is stopped when the test ends.
func spawn(t testing.TB, h helper) (pid int, cmd *exec.Cmd) {
	t.Helper()
	bin := os.Args[0]
	if h.uid >= 0 {
		bin = publicCopy(t, bin)
	}
	argv := append(append([]string{}, h.argv...), bin)
	cmd = exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PEER_HELPER=1", "PEER_DIAL="+h.dial, "PEER_CONNS="+strconv.Itoa(h.conns), "PEER_HOLD="+strconv.Itoa(h.hold))
	if h.exit {
		cmd.Env = append(cmd.Env, "PEER_EXIT=1")
	}
	if h.nodump {
		cmd.Env = append(cmd.Env, "PEER_NODUMP=1")
	}
	if h.uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(h.uid), Gid: uint32(h.uid)}}
	}
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	pid, err = strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	return pid, cmd
}

func listenTB(t testing.TB) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		t.Cleanup(func() { ln.Close() })
	}
	return ln, err
}

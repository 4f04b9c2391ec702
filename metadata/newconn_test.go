package metadata_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

// Requests on new connections: each one makes ossd identify the process
// behind the connection, because role "reader" is restricted to one user
// and one executable, and the audit log records the caller. The clients
// are a separate process (as another user when the test runs as root), so
// the CPU counted here is the server's alone.

const (
	// uids no other test uses: a lookup reads every process of the client's
	// user, so the counts assume the client is its only process.
	clientUID = 4631 // the client, when running as root
	holderUID = 4632 // another user holding many fds
)

// helperProc is a helper process: the test binary with METADATA_TEST_HELPER.
type helperProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startHelper runs the test binary in mode as uid (as ourselves if not
// root) and returns it with the path of the binary it runs.
func startHelper(t testing.TB, mode string, uid int) (*helperProc, string) {
	t.Helper()
	bin, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		bin = publicCopy(t, bin)
	}
	h := &helperProc{cmd: exec.Command(bin)}
	h.cmd.Env = append(os.Environ(), "METADATA_TEST_HELPER="+mode)
	if os.Geteuid() == 0 {
		h.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	h.in, _ = h.cmd.StdinPipe()
	out, _ := h.cmd.StdoutPipe()
	h.out = bufio.NewReader(out)
	h.cmd.Stderr = os.Stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.in.Close(); h.cmd.Wait() })
	return h, bin
}

// say sends line and returns the helper's answer.
func (h *helperProc) say(t testing.TB, line string) string {
	t.Helper()
	if _, err := fmt.Fprintln(h.in, line); err != nil {
		t.Fatal(err)
	}
	ans, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return strings.TrimSpace(ans)
}

// publicCopy copies bin where another user may run it.
func publicCopy(t testing.TB, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "metadata-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
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

// holdFDsAs makes uid hold n fds: one process if ours may raise its fd
// limit that far (it needs CAP_SYS_RESOURCE), else as few processes as the
// hard limit allows.
func holdFDsAs(t testing.TB, uid, n int) {
	t.Helper()
	var own unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	for n > 0 {
		h, _ := startHelper(t, "hold", uid)
		k := n
		lim := unix.Rlimit{Cur: uint64(k + 64), Max: uint64(k + 64)}
		if err := unix.Prlimit(h.cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
			k = min(n, int(own.Max)-64)
		}
		if ans := h.say(t, strconv.Itoa(k)); ans != strconv.Itoa(h.cmd.Process.Pid) {
			t.Fatalf("holder: %s", ans)
		}
		n -= k
	}
}

// guardedListener serves role "reader", allowed to uid running exe only,
// on loopback with an audit log, and returns its address.
func guardedListener(t testing.TB, peers *peer.Finder, uid int, exe string) string {
	t.Helper()
	env := newEnv(t)
	rule, err := access.Compile(config.Allow{UIDs: []uint32{uint32(uid)}, Exe: []string{exe}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles := testenv.Roles("reader")
	roles[0].Allow = rule
	if errs := env.Service.Apply(context.Background(), roles); len(errs) > 0 {
		t.Fatal(errs)
	}
	al := audit.New(io.Discard, env.Clock)
	env.Service.SetAudit(al, refusal.New(refusal.Options{Audit: al, Clock: env.Clock}))
	h := metadata.New(metadata.Options{Source: env.Service, Role: "reader", Clock: env.Clock, Limit: unlimited()})
	return serveWith(t, h, peers)
}

// serveWith runs h on a loopback TCP listener until the test ends, its
// callers identified by peers, and returns its address.
func serveWith(t testing.TB, h http.Handler, peers *peer.Finder) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metadata.Serve(ctx, ln, h, nil, peers) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func clientUIDOrSelf() int {
	if os.Geteuid() == 0 {
		return clientUID
	}
	return os.Geteuid()
}

// TestNewConnOtherUsersFDs: another user holding 100,000 fds changes
// nothing in the lookups of a caller's connections: each opens the same
// /proc entries, all of them the caller's. (The fds are held by as few
// processes as RLIMIT_NOFILE allows: one where ossd's tests may raise it.)
func TestNewConnOtherUsersFDs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client and an fd holder as other users")
	}
	peers := peer.New(peer.Options{})
	defer peers.Close()
	client, exe := startHelper(t, "client", clientUID)
	addr := guardedListener(t, peers, clientUID, exe)
	const n = 20
	perLookup := func() uint64 {
		if ans := client.say(t, fmt.Sprintf("1 %s %s", addr, creds)); ans != "ok" { // warm the process table
			t.Fatalf("client: %s", ans)
		}
		before := peers.Stats()
		if ans := client.say(t, fmt.Sprintf("%d %s %s", n, addr, creds)); ans != "ok" {
			t.Fatalf("client: %s", ans)
		}
		after := peers.Stats()
		if got := after.TCP - before.TCP; got != n {
			t.Fatalf("%d lookups for %d connections", got, n)
		}
		return (after.Opened - before.Opened) / n
	}
	alone := perLookup()
	holdFDsAs(t, holderUID, 100_000)
	crowded := perLookup()
	if alone != crowded || alone > 64 {
		t.Errorf("a lookup opened %d /proc entries alone and %d beside another user's 100,000 fds; want equal and at most 64", alone, crowded)
	}
	t.Logf("%d /proc entries per lookup", crowded)
}

// benchNewConn makes b.N requests on new connections from the client
// helper to addr and reports the server's CPU per request (cpu-ns/op) and,
// given peers, the /proc entries and listings of /proc per request. It
// sends all b.N requests in one command so that nothing but the requests
// runs on this side while they do.
func benchNewConn(b *testing.B, client *helperProc, addr string, peers *peer.Finder) {
	if ans := client.say(b, fmt.Sprintf("10 %s %s", addr, creds)); ans != "ok" {
		b.Fatalf("client: %s", ans)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, st0 := cpuTime(), statsOf(peers)
	if ans := client.say(b, fmt.Sprintf("%d %s %s", b.N, addr, creds)); ans != "ok" {
		b.Fatalf("client: %s", ans)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if st := statsOf(peers); st.TCP > st0.TCP {
		b.ReportMetric(float64(st.Opened-st0.Opened)/float64(b.N), "opened/op")
		b.ReportMetric(float64(st.Scans-st0.Scans)/float64(b.N), "scans/op")
	}
}

func statsOf(f *peer.Finder) peer.Stats {
	if f == nil {
		return peer.Stats{}
	}
	return f.Stats()
}

// cpuTime is this process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkNewConnMetadata: a guarded metadata request on a new
// connection, the caller identified through sock_diag and /proc.
func BenchmarkNewConnMetadata(b *testing.B) {
	peers := peer.New(peer.Options{})
	defer peers.Close()
	client, exe := startHelper(b, "client", clientUIDOrSelf())
	benchNewConn(b, client, guardedListener(b, peers, clientUIDOrSelf(), exe), peers)
}

// BenchmarkNewConnMetadataOtherUserFDs is BenchmarkNewConnMetadata while
// another user holds 100,000 fds.
func BenchmarkNewConnMetadataOtherUserFDs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to hold fds as another user")
	}
	holdFDsAs(b, holderUID, 100_000)
	BenchmarkNewConnMetadata(b)
}

// BenchmarkNewConnOpenRole is BenchmarkNewConnMetadata for a role without
// rules and without an audit log: nothing asks who the caller is, so the
// difference between the two is the lookup and the audit line.
func BenchmarkNewConnOpenRole(b *testing.B) {
	peers := peer.New(peer.Options{})
	defer peers.Close()
	env := newEnv(b)
	h := metadata.New(metadata.Options{Source: env.Service, Role: "reader", Clock: env.Clock, Limit: unlimited()})
	client, _ := startHelper(b, "client", clientUIDOrSelf())
	benchNewConn(b, client, serveWith(b, h, peers), peers)
}

// BenchmarkNewConnBare is the limit: a bare net/http server answering the
// same bytes on a new connection.
func BenchmarkNewConnBare(b *testing.B) {
	env := newEnv(b)
	body := env.Get(testenv.Params("reader")).AppendJSON(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	client, _ := startHelper(b, "client", clientUIDOrSelf())
	benchNewConn(b, client, ln.Addr().String(), nil)
}

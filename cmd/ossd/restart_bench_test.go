package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/sockdiag"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
)

// BenchmarkRestartUnderLoad restarts ossd while 100 clients, one per
// role, fetch credentials in a loop, each request on a new connection. ossd is socket-activated
// as under systemd (the benchmark holds the listening socket and passes it
// to each process), so requests made while no process accepts wait in the
// socket's queue. One iteration is one restart: SIGTERM, wait for the exit,
// start the next process.
//
// An answer counts as the new process's if its request was sent after the
// old process exited, or if its connection was still waiting in the
// socket's queue then (the kernel lists those: sock_diag's
// UDIAG_SHOW_ICONS), so never accepted by the old process.
//
//	ms-first:    from the old process's exit to the new process's first answer
//	ms-all:      to when the new process has answered every role (median)
//	ms-all-max:  the slowest restart's
//	ms-all-sent: to when every role has been answered to a request sent
//	             after the exit (median): each client's queued request
//	             then counts for nothing, so this is about two rounds of
//	             100 connections
//	sts-calls:   AssumeRole calls the new process made
//	queued:      connections waiting in the queue at the exit (mean)
//
// "kept" keeps the runtime directory, as RuntimeDirectoryPreserve=yes
// does; "cold" removes the token file before each start, as a reboot does.
//
//	go test -run '^$' -bench RestartUnderLoad -benchtime 20x ./cmd/ossd
func BenchmarkRestartUnderLoad(b *testing.B) {
	for _, kept := range []bool{true, false} {
		name := map[bool]string{true: "kept", false: "cold"}[kept]
		b.Run(name, func(b *testing.B) { benchRestart(b, kept, 100) })
	}
}

func benchRestart(b *testing.B, kept bool, roles int) {
	r := newRestartRig(b, roles)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, role := range r.roles {
		wg.Add(1)
		go func() { defer wg.Done(); r.load(ctx, role) }()
	}
	r.restart(b, true) // the first process fetches every role
	var first, all, sent []time.Duration
	calls, queued := 0, 0
	for b.Loop() {
		f, a, s, n, q := r.restart(b, kept)
		first, all, sent, calls, queued = append(first, f), append(all, a), append(sent, s), calls+n, queued+q
	}
	b.ReportMetric(ms(percentile(first, 50)), "ms-first")
	b.ReportMetric(ms(percentile(all, 50)), "ms-all")
	b.ReportMetric(ms(slices.Max(all)), "ms-all-max")
	b.ReportMetric(ms(percentile(sent, 50)), "ms-all-sent")
	b.ReportMetric(float64(calls)/float64(len(all)), "sts-calls")
	b.ReportMetric(float64(queued)/float64(len(all)), "queued")
	r.stop(b)
}

// restartRig is the socket, the local STS, the config and the process.
type restartRig struct {
	roles []string
	sock  string
	lf    *os.File // the listening socket, passed to each process as fd 3
	cfg   string
	run   string // $RUNTIME_DIRECTORY
	sts   interface{ Calls() int }
	cmd   *exec.Cmd
	done  chan error
	diag  *sockdiag.Conn
	lino  uint64 // the listening socket's inode

	mu     sync.Mutex // guards since, queued, seen and sent
	since  time.Time
	queued map[uint64]bool      // client sockets waiting in the queue at since
	seen   map[string]time.Time // role -> the new process's first answer
	sent   map[string]time.Time // role -> first answer to a request sent after since
}

func newRestartRig(b *testing.B, n int) *restartRig {
	run := testenv.RuntimeDir(b)
	if mem, err := tokenstore.InMemory(run); err != nil || !mem {
		b.Skipf("no tmpfs for the runtime directory (%s)", run)
	}
	r := &restartRig{run: run, seen: map[string]time.Time{}, sent: map[string]time.Time{}}
	diag, err := sockdiag.Open()
	if err != nil {
		b.Skipf("no sock_diag to tell queued connections from answered ones: %v", err)
	}
	b.Cleanup(func() { diag.Close() })
	r.diag = diag
	for i := range n {
		r.roles = append(r.roles, fmt.Sprintf("r%03d", i))
	}
	s, endpoint := testenv.StartSTS(b, r.roles...)
	r.sts = s
	dir, err := os.MkdirTemp("/tmp", "ossd-rb-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	r.sock, r.cfg = filepath.Join(dir, "ossd.sock"), filepath.Join(dir, "ossd.toml")
	var roles strings.Builder
	for _, role := range r.roles {
		fmt.Fprintf(&roles, "[[role]]\nname = %q\narn = %q\n", role, testenv.Params(role).RoleARN)
	}
	if err := os.WriteFile(r.cfg, []byte(stsConfig(endpoint, "[log]\nlevel = \"warn\"\n"+roles.String())), 0o600); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("unix", r.sock)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	if r.lf, err = ln.(*net.UnixListener).File(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.lf.Close() })
	if r.lino, err = sockInode(r.lf); err != nil {
		b.Fatal(err)
	}
	return r
}

// sockInode returns the inode of a socket, as sock_diag names it.
func sockInode(f interface {
	SyscallConn() (syscall.RawConn, error)
}) (uint64, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil {
		return 0, err
	}
	return st.Ino, serr
}

// restart stops the running process, if any, starts the next, and waits
// until every role has been answered by it, to a queued request and to one
// sent after the exit.
func (r *restartRig) restart(b *testing.B, kept bool) (first, all, sent time.Duration, calls, queued int) {
	r.stop(b)
	if !kept {
		if err := os.Remove(filepath.Join(r.run, tokenstore.FileName)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	before := r.sts.Calls()
	// No process accepts now: what waits in the queue is the next one's.
	queue, err := r.diag.UnixQueue(r.lino)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	waiting := make(map[uint64]bool, len(queue))
	for _, ino := range queue {
		waiting[ino] = true
	}
	r.mu.Lock()
	r.since, r.queued, r.seen, r.sent = t0, waiting, map[string]time.Time{}, map[string]time.Time{}
	r.mu.Unlock()
	r.cmd = exec.Command("/bin/sh", "-c", `export LISTEN_PID=$$; exec "$0" "$@"`, ossdBin, "serve", "--config", r.cfg)
	r.cmd.ExtraFiles = []*os.File{r.lf}
	r.cmd.Env = childEnv("LISTEN_FDS=1", "LISTEN_FDNAMES=ossd", "RUNTIME_DIRECTORY="+r.run)
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	if err := r.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(r.cmd, r.done)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n, ns := len(r.seen), len(r.sent)
		firstAt, last := span(r.seen)
		_, lastSent := span(r.sent)
		r.mu.Unlock()
		if n == len(r.roles) && ns == len(r.roles) {
			return firstAt.Sub(t0), last.Sub(t0), lastSent.Sub(t0), r.sts.Calls() - before, len(queue)
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 60 s, %d of %d roles answered (%d to requests sent after the exit)", n, len(r.roles), ns)
		}
	}
}

// span returns the earliest and the latest of times.
func span(times map[string]time.Time) (first, last time.Time) {
	for _, at := range times {
		if last.IsZero() || at.After(last) {
			last = at
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first, last
}

// stop ends the running process with SIGTERM and waits for it.
func (r *restartRig) stop(b *testing.B) {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-r.done; err != nil {
		b.Fatalf("ossd exited with %v", err)
	}
	r.cmd = nil
}

// load fetches role until ctx ends and records the new process's first
// answer: to a request sent after r.since (the old process had exited by
// then) or on a connection that was waiting in the queue at r.since.
func (r *restartRig) load(ctx context.Context, role string) {
	client := freshClient(r.sock)
	// The inode of this request's connection. The transport dials on a
	// goroutine of its own, so it is atomic.
	var conn atomic.Uint64
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", r.sock)
		if err != nil {
			return nil, err
		}
		ino, err := sockInode(c.(*net.UnixConn))
		if err != nil {
			c.Close()
			return nil, err
		}
		conn.Store(ino)
		return c, nil
	}
	for ctx.Err() == nil {
		conn.Store(0)
		begin := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/v1/credentials/"+role, nil) // a constant, valid URL
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body) // drained only to finish the exchange
		resp.Body.Close()
		end := time.Now()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		r.mu.Lock()
		after := !begin.Before(r.since)
		if _, ok := r.seen[role]; !ok && (after || r.queued[conn.Load()]) {
			r.seen[role] = end
		}
		if _, ok := r.sent[role]; !ok && after {
			r.sent[role] = end
		}
		r.mu.Unlock()
	}
}

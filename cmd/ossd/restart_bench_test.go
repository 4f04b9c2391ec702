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
	"syscall"
	"testing"
	"time"

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
//	ms-first:   from the old process's exit to the first answer to a
//	            request sent after it: the bare cost of starting a process
//	ms-all:     to when every role has been answered so (median)
//	ms-all-max: the slowest restart's
//	sts-calls:  AssumeRole calls the new process made
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
	var first, all []time.Duration
	calls := 0
	for b.Loop() {
		f, a, n := r.restart(b, kept)
		first, all, calls = append(first, f), append(all, a), calls+n
	}
	b.ReportMetric(ms(percentile(first, 50)), "ms-first")
	b.ReportMetric(ms(percentile(all, 50)), "ms-all")
	b.ReportMetric(ms(slices.Max(all)), "ms-all-max")
	b.ReportMetric(float64(calls)/float64(len(all)), "sts-calls")
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

	mu    sync.Mutex // guards since and seen
	since time.Time
	seen  map[string]time.Time // role -> first answer to a request sent after since
}

func newRestartRig(b *testing.B, n int) *restartRig {
	run := testenv.RuntimeDir(b)
	if mem, err := tokenstore.InMemory(run); err != nil || !mem {
		b.Skipf("no tmpfs for the runtime directory (%s)", run)
	}
	r := &restartRig{run: run, seen: map[string]time.Time{}}
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
	return r
}

// restart stops the running process, if any, starts the next, and waits
// until every role has been answered by it.
func (r *restartRig) restart(b *testing.B, kept bool) (first, all time.Duration, calls int) {
	r.stop(b)
	if !kept {
		if err := os.Remove(filepath.Join(r.run, tokenstore.FileName)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	before := r.sts.Calls()
	t0 := time.Now()
	r.mu.Lock()
	r.since, r.seen = t0, map[string]time.Time{}
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
		n := len(r.seen)
		var last, firstAt time.Time
		for _, at := range r.seen {
			if last.IsZero() || at.After(last) {
				last = at
			}
			if firstAt.IsZero() || at.Before(firstAt) {
				firstAt = at
			}
		}
		r.mu.Unlock()
		if n == len(r.roles) {
			return firstAt.Sub(t0), last.Sub(t0), r.sts.Calls() - before
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 60 s, %d of %d roles answered", n, len(r.roles))
		}
	}
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

// load fetches role until ctx ends and records its first answer to a
// request sent after r.since: the old process had exited by then, so the
// new one answered it.
func (r *restartRig) load(ctx context.Context, role string) {
	client := freshClient(r.sock)
	for ctx.Err() == nil {
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
		if !begin.Before(r.since) {
			if _, ok := r.seen[role]; !ok {
				r.seen[role] = end
			}
		}
		r.mu.Unlock()
	}
}

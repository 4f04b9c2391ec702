package main_test

import (
	"github.com/ossd/ossd/internal/needs"

	"context"
	"encoding/json"
	"errors"
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

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
)

// requireTool returns path, skipping the test when it is missing, except
// under CI=true, where a missing tool is a failure.
func requireTool(t *testing.T, path string) string {
	t.Helper()
	return needs.Tool(t, path, "systemd")
}

func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "ossd-sd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// notifications is a NOTIFY_SOCKET: it collects what ossd tells systemd.
type notifications struct {
	conn *net.UnixConn
	path string
	mu   sync.Mutex // guards msgs
	msgs []string
}

func listenNotify(t *testing.T, dir string) *notifications {
	t.Helper()
	n := &notifications{path: filepath.Join(dir, "notify")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n.conn = c
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

// count reports how many notifications contain the assignment s.
func (n *notifications) count(s string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for _, m := range n.msgs {
		if slices.Contains(strings.Split(m, "\n"), s) {
			k++
		}
	}
	return k
}

func (n *notifications) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("%q", n.msgs)
}

// credsBody is the SPEC §1 body.
type credsBody struct {
	Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration, LastUpdated string
}

// checkBody reports what is wrong with a credentials response, if anything.
func checkBody(status int, body []byte) (credsBody, error) {
	var c credsBody
	if status != http.StatusOK {
		return c, fmt.Errorf("status %d: %.200s", status, body)
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("body %.200q: %w", body, err)
	}
	exp, err1 := time.Parse(ossd.TimeLayout, c.Expiration)
	upd, err2 := time.Parse(ossd.TimeLayout, c.LastUpdated)
	switch {
	case c.Code != "Success", !strings.HasPrefix(c.AccessKeyId, "STS."), c.AccessKeySecret == "", c.SecurityToken == "":
		return c, fmt.Errorf("not a credentials body: %.200q", body)
	case err1 != nil || err2 != nil || !exp.After(upd):
		return c, fmt.Errorf("bad times in %.200q", body)
	}
	return c, nil
}

// freshClient makes every request on a new connection to the socket.
func freshClient(path string) *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableKeepAlives: true,
	}}
}

// patientClient retries refused connections for a while: the socket file
// appears at bind(2), a moment before listen(2).
func patientClient(path string) *http.Client {
	c := freshClient(path)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "unix", path)
			if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
				return conn, err
			}
		}
	}
	return c
}

func getCreds(c *http.Client) (credsBody, error) {
	resp, err := c.Get("http://localhost/v1/credentials/demo")
	if err != nil {
		return credsBody{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return credsBody{}, err
	}
	return checkBody(resp.StatusCode, body)
}

// proc is one ossd process started as systemd would start it.
type proc struct {
	cmd    *exec.Cmd
	stderr *testenv.SyncBuffer
	done   chan error
}

func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: new(testenv.SyncBuffer), done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM, as systemctl stop does, and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("ossd exited with %v after SIGTERM\nstderr:\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("ossd did not stop within 30s of SIGTERM\nstderr:\n%s", p.stderr)
	}
}

func childEnv(extra ...string) []string {
	env := []string{"HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy="}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LISTEN_") || strings.HasPrefix(k, "WATCHDOG_") || k == "NOTIFY_SOCKET" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// waitUntil polls cond for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSocketActivation starts ossd under the real systemd-socket-activate,
// which listens, waits for the first connection and execs ossd with the
// socket as fd 3 named "ossd" (as ossd.socket does), and stands in for
// systemd's notification socket with a watchdog of 400 ms.
func TestSocketActivation(t *testing.T) {
	tool := requireTool(t, "/usr/bin/systemd-socket-activate")
	dir := shortDir(t)
	sock, other := filepath.Join(dir, "ossd.sock"), filepath.Join(dir, "other.sock")
	n := listenNotify(t, dir)
	// systemd-socket-activate passes the child only the variables given with -E.
	cmd := exec.Command(tool, "-l", sock, "--fdname=ossd", "-E", "NOTIFY_SOCKET="+n.path, "-E", "WATCHDOG_USEC=400000",
		ossdBin, "serve", "--dev", "--socket", other)
	cmd.Env = childEnv()
	p := startProc(t, cmd)
	waitUntil(t, "systemd-socket-activate to listen", func() bool { _, err := os.Stat(sock); return err == nil })
	if err := os.Chmod(sock, 0o640); err != nil { // ossd would chmod a socket it made to 0600
		t.Fatal(err)
	}

	c, err := getCreds(patientClient(sock)) // this connection starts ossd
	if err != nil {
		t.Fatalf("first request: %v\nstderr:\n%s", err, p.stderr)
	}
	waitUntil(t, "READY=1", func() bool { return n.count("READY=1") == 1 })
	if n.count("STATUS=1 role: 1 ok") == 0 {
		t.Errorf("no STATUS with the role's state in %s", n)
	}
	waitUntil(t, "two watchdog pings", func() bool { return n.count("WATCHDOG=1") >= 2 })
	p.stop(t)

	if n.count("STOPPING=1") != 1 {
		t.Errorf("STOPPING=1 not sent once: %s", n)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("systemd's socket after ossd stopped: %v, %v; want it kept with mode 0640", fi, err)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("ossd bound %s although systemd passed a socket", other)
	}
	logs := p.stderr.String()
	if !strings.Contains(logs, "socket passed by systemd") || !strings.Contains(logs, "systemd watchdog on") {
		t.Errorf("log does not say it uses systemd's socket and watchdog:\n%s", logs)
	}
	logtest.NoSecrets(t, "ossd stderr", logs, c.AccessKeySecret, c.SecurityToken)
}

// TestRestartUnderLoad restarts ossd three times while 16 clients fetch
// credentials, each request on a new connection. The test holds the
// listening socket, as systemd does for ossd.socket, and starts each
// generation with it as fd 3 (LISTEN_FDS=1, LISTEN_FDNAMES=ossd;
// LISTEN_PID is the child's own pid, set by a one-line sh wrapper, as
// systemd sets it after fork). Each generation is stopped with SIGTERM and
// must exit cleanly before the next starts. No request may fail: while no
// process accepts, connections wait in the socket's backlog.
func TestRestartUnderLoad(t *testing.T) {
	const (
		clients     = 16
		restarts    = 3
		perGen      = 40   // successes each generation must serve
		maxRequests = 4000 // per client: the load is bounded
	)
	dir := shortDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	start := func() *proc {
		cmd := exec.Command("/bin/sh", "-c", `export LISTEN_PID=$$; exec "$0" "$@"`, ossdBin, "serve", "--dev", "--socket", sock)
		cmd.ExtraFiles = []*os.File{lf}
		cmd.Env = childEnv("LISTEN_FDS=1", "LISTEN_FDNAMES=ossd")
		return startProc(t, cmd)
	}

	l := &load{keys: map[string]int{}}
	ctx, cancel := context.WithTimeout(t.Context(), 180*time.Second)
	defer cancel()
	gen := start()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() { defer wg.Done(); l.run(ctx, freshClient(sock), maxRequests) }()
	}
	var (
		logs  []string
		exits []time.Time // just after each stopped generation exited
	)
	for i := 0; ; i++ {
		before := l.ok.Load()
		waitUntil(t, fmt.Sprintf("generation %d to serve %d requests", i+1, perGen), func() bool {
			return l.ok.Load() >= before+perGen && l.distinct() == i+1 || l.failed() > 0
		})
		if i == restarts || l.failed() > 0 {
			break
		}
		gen.stop(t) // clients keep connecting: their connections queue
		exits = append(exits, time.Now())
		logs = append(logs, gen.stderr.String())
		gen = start()
	}
	cancel()
	wg.Wait()
	gen.stop(t)
	logs = append(logs, gen.stderr.String())

	if errs := l.errors(); len(errs) > 0 {
		t.Fatalf("%d of %d requests failed across %d restarts; first: %v", len(errs), l.ok.Load()+int64(len(errs)), restarts, errs[0])
	}
	// A request that began before a generation had exited and ended after
	// cannot have been answered by it: it waited in the socket's queue.
	for i, at := range exits {
		if n := l.spanning(at); n == 0 {
			t.Errorf("no request waited across restart %d: the test did not restart under load", i+1)
		} else {
			t.Logf("restart %d: %d requests waited in the queue and were answered by the next generation", i+1, n)
		}
	}
	if got := l.distinct(); got != restarts+1 {
		t.Errorf("distinct AccessKeyIds = %d, want %d (one per generation)", got, restarts+1)
	}
	t.Logf("%d requests, none failed, %d generations; per key: %v", l.ok.Load(), restarts+1, l.perKey())
	l.noSecretsIn(t, strings.Join(logs, "\n"))
}

// load is the clients' shared tally.
type load struct {
	ok      atomic.Int64
	mu      sync.Mutex // guards errs, keys, secrets and spans
	errs    []error
	keys    map[string]int // AccessKeyId -> responses
	secrets []string
	spans   [][2]time.Time // start and end of each answered request
}

// spanning reports how many answered requests were in flight at t.
func (l *load) spanning(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, sp := range l.spans {
		if sp[0].Before(t) && sp[1].After(t) {
			n++
		}
	}
	return n
}

func (l *load) run(ctx context.Context, c *http.Client, max int) {
	for i := 0; i < max && ctx.Err() == nil; i++ {
		begin := time.Now()
		body, err := getCreds(c)
		end := time.Now()
		l.mu.Lock()
		if err != nil {
			l.errs = append(l.errs, err)
		} else {
			if l.keys[body.AccessKeyId] == 0 {
				l.secrets = append(l.secrets, body.AccessKeySecret, body.SecurityToken)
			}
			l.keys[body.AccessKeyId]++
			l.spans = append(l.spans, [2]time.Time{begin, end})
		}
		l.mu.Unlock()
		if err == nil {
			l.ok.Add(1)
		}
	}
}

func (l *load) failed() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.errs) }

func (l *load) distinct() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.keys) }

func (l *load) errors() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func (l *load) perKey() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, n := range l.keys {
		out = append(out, n)
	}
	return out
}

func (l *load) noSecretsIn(t *testing.T, logs string) {
	t.Helper()
	l.mu.Lock()
	secrets := append([]string(nil), l.secrets...)
	l.mu.Unlock()
	logtest.NoSecrets(t, "ossd stderr", logs, secrets...)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process this command started; stop ends it by its PID.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr tail          // the end of its standard error
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done closes
}

// startProc starts bin with args and the environment without proxies (the
// children talk to loopback only), plus env. Its standard error goes to the file
// stderrPath: a daemon under load writes an audit line per request, which
// this process must neither hold in memory nor spend CPU reading.
func startProc(bin string, args []string, stdin io.Reader, stderrPath string, env ...string) (*proc, error) {
	f, err := os.OpenFile(stderrPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	defer f.Close() // the child has its own copy
	p := &proc{cmd: exec.Command(bin, args...), stdout: new(syncBuffer), stderr: tail(stderrPath), done: make(chan struct{})}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = stdin, p.stdout, f
	p.cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=", "NO_PROXY=", "no_proxy=")
	p.cmd.Env = append(p.cmd.Env, env...)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits up to 10 s, then kills.
func (p *proc) stop() error {
	if p.exited() {
		return p.err
	}
	p.cmd.Process.Signal(syscall.SIGTERM) // if it has just exited, Wait reports that
	select {
	case <-p.done:
		return p.err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill() // it did not stop: end it
		<-p.done
		return fmt.Errorf("%s did not stop within 10s of SIGTERM", p.cmd.Path)
	}
}

// waitOutput waits until the process's stdout contains s, and returns
// stdout.
func (p *proc) waitOutput(ctx context.Context, s string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		if out := p.stdout.String(); strings.Contains(out, s) {
			return out, nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("%s exited: %v\nstderr:\n%s", p.cmd.Path, p.err, p.stderr)
		case <-ctx.Done():
			return "", fmt.Errorf("%s printed no %q within %v\nstderr:\n%s", p.cmd.Path, s, within, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// rssKiB returns the resident set size of process pid, from
// /proc/PID/status (VmRSS).
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS: malformed VmRSS %q", v)
			}
			return n, nil
		}
	}
	return 0, errors.New("read RSS: no VmRSS line")
}

// tail is a file whose last few KiB errors quote.
type tail string

func (t tail) String() string {
	f, err := os.Open(string(t))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	const keep = 4 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > keep {
		f.Seek(fi.Size()-keep, io.SeekStart) // on failure, read from the start
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

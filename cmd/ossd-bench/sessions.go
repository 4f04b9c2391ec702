package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/bench"
	"github.com/ossd/ossd/internal/clock"
)

// sessionRole is the configured role whose on-demand sessions the
// session scenarios fill; it is the first role of the generated config.
const sessionRole = "r00000"

// sessionResult is what one session scenario measured.
type sessionResult struct {
	Sessions int           `json:"sessions"`
	MaxQPS   float64       `json:"max_qps"`
	Fill     time.Duration `json:"fill_ns"`   // all sessions asked for, one request each
	BaseKiB  int64         `json:"base_kib"`  // VmRSS with the configured role only
	RSSKiB   int64         `json:"rss_kib"`   // VmRSS after the fill, settled
	STSCalls int           `json:"sts_calls"` // AssumeRole calls of the fill
	CPU      time.Duration `json:"cpu_ns"`    // the daemon's user+system CPU over the fill
	MemLimit string        `json:"gomemlimit,omitempty"`
	GOGC     string        `json:"gogc,omitempty"`
	Heap     heapStats     `json:"heap"`
	Profile  string        `json:"heap_profile,omitempty"`
}

// heapStats are the daemon's own go_memstats figures after the fill, read
// from its metrics listener.
type heapStats struct {
	AllocBytes    float64 `json:"alloc_bytes"`    // live and not yet collected
	InuseBytes    float64 `json:"inuse_bytes"`    // in spans in use
	NextGCBytes   float64 `json:"next_gc_bytes"`  // the heap goal
	SysBytes      float64 `json:"sys_bytes"`      // from the OS, all kinds
	ReleasedBytes float64 `json:"released_bytes"` // returned to the OS
}

// perSession is the RSS the sessions added, per session.
func (r sessionResult) perSession() float64 {
	return float64(r.RSSKiB-r.BaseKiB) * 1024 / float64(r.Sessions)
}

// measureSessions starts the daemon with one role and server.max_sessions
// = n for each n, fills n on-demand sessions through the socket API
// (?session=), and reads its memory.
func (e *stsEnv) measureSessions(ctx context.Context, bin, dir string, o scaleOptions, stderr io.Writer) ([]sessionResult, error) {
	var out []sessionResult
	for _, n := range o.sessions {
		r, err := e.fillOnce(ctx, bin, filepath.Join(dir, fmt.Sprint("sessions", n)), n, o)
		if err != nil {
			return nil, fmt.Errorf("%d sessions: %w", n, err)
		}
		fmt.Fprintf(stderr, "%d sessions: filled in %v, RSS %.1f MiB (%.1f MiB before), heap %.1f MiB in use\n",
			n, r.Fill.Round(time.Millisecond), float64(r.RSSKiB)/1024, float64(r.BaseKiB)/1024, r.Heap.InuseBytes/(1<<20))
		out = append(out, r)
	}
	return out, nil
}

func (e *stsEnv) fillOnce(ctx context.Context, bin, dir string, n int, o scaleOptions) (sessionResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sessionResult{}, err
	}
	metricsAddr, err := freePort()
	if err != nil {
		return sessionResult{}, err
	}
	sock, cfg := filepath.Join(dir, "ossd.sock"), filepath.Join(dir, "ossd.toml")
	conf := e.config(sock, 1, o.sessionQPS) + fmt.Sprintf("\n[metrics]\nlisten = %q\n", metricsAddr)
	// One uid fills every session, faster than the default per-uid rate of
	// 1,000 requests a second allows once its burst is spent.
	conf = strings.Replace(conf, "[server]\n", fmt.Sprintf("[server]\nmax_sessions = %d\nrate_per_uid = 1000000\nburst_per_uid = 1000000\n", n), 1)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return sessionResult{}, err
	}
	env := []string{}
	res := sessionResult{Sessions: n, MaxQPS: o.sessionQPS, MemLimit: o.memLimit, GOGC: o.gogc}
	if o.memLimit != "" {
		env = append(env, "GOMEMLIMIT="+o.memLimit) // the daemon's only, not this process's
	}
	if o.gogc != "" {
		env = append(env, "GOGC="+o.gogc)
	}
	if o.heapProfile != "" {
		res.Profile = filepath.Join(o.heapProfile, fmt.Sprintf("heap-%d.pb.gz", n))
		env = append(env, "OSSD_BENCH_HEAP_PROFILE="+res.Profile)
	}
	p, err := startProc(bin, []string{"serve", "--config", cfg}, nil, filepath.Join(dir, "ossd.stderr"), env...)
	if err != nil {
		return sessionResult{}, err
	}
	defer p.stop()
	if err := waitReady(ctx, p, sock, 1, time.Minute); err != nil {
		return sessionResult{}, err
	}
	if res.BaseKiB, err = rssKiB(p.pid()); err != nil {
		return sessionResult{}, err
	}
	calls, clk := e.sts.Calls(), clock.Real{}
	cpu0, err := cpuTime(p.pid())
	if err != nil {
		return sessionResult{}, err
	}
	t0 := clk.Mono()
	if err := fill(ctx, sock, n, o.sessionClients); err != nil {
		return sessionResult{}, fmt.Errorf("%w\nstderr:\n%s", err, p.stderr)
	}
	res.Fill, res.STSCalls = clk.Mono()-t0, e.sts.Calls()-calls
	cpu1, err := cpuTime(p.pid())
	if err != nil {
		return sessionResult{}, err
	}
	res.CPU = cpu1 - cpu0
	if err := sleep(ctx, o.settle); err != nil {
		return sessionResult{}, err
	}
	if res.RSSKiB, err = rssKiB(p.pid()); err != nil {
		return sessionResult{}, err
	}
	if res.Heap, err = readHeap(ctx, metricsAddr); err != nil {
		return sessionResult{}, err
	}
	if res.Profile != "" {
		if err := heapProfile(ctx, p, res.Profile); err != nil {
			return sessionResult{}, err
		}
	}
	return res, p.stop()
}

// fill asks for sessions s0000000..s(n-1) of sessionRole, one request each,
// over clients keep-alive connections.
func fill(ctx context.Context, sock string, n, clients int) error {
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range clients {
		g.Go(func() error {
			c, err := bench.Dial(ctx, "unix", sock)
			if err != nil {
				return err
			}
			defer c.Close()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				req := bench.NewRequest("GET", "localhost", fmt.Sprintf("/v1/credentials/%s?session=s%07d", sessionRole, i))
				if _, err := c.Do(req, nil); err != nil {
					return fmt.Errorf("session %d: %w", i, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// readHeap reads the daemon's go_memstats gauges from its metrics listener.
func readHeap(ctx context.Context, addr string) (heapStats, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return heapStats{}, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return heapStats{}, fmt.Errorf("read the daemon's metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return heapStats{}, err
	}
	var h heapStats
	for _, m := range []struct {
		name string
		v    *float64
	}{
		{"go_memstats_heap_alloc_bytes", &h.AllocBytes}, {"go_memstats_heap_inuse_bytes", &h.InuseBytes},
		{"go_memstats_next_gc_bytes", &h.NextGCBytes}, {"go_memstats_sys_bytes", &h.SysBytes},
		{"go_memstats_heap_released_bytes", &h.ReleasedBytes},
	} {
		_, rest, ok := strings.Cut(string(body), "\n"+m.name+" ")
		line, _, _ := strings.Cut(rest, "\n")
		if *m.v, err = strconv.ParseFloat(line, 64); !ok || err != nil {
			return heapStats{}, fmt.Errorf("the daemon's metrics have no %s", m.name)
		}
	}
	return h, nil
}

// heapProfile asks the daemon (a build with -tags ossd_bench) for a heap
// profile and waits until it is written.
func heapProfile(ctx context.Context, p *proc, path string) error {
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	for deadline := 0; deadline < 3000; deadline++ { // 30 s
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("no heap profile at %s within 30s (is the daemon a build with -tags ossd_bench?)", path)
}

// cpuTime returns the user+system CPU time of process pid so far.
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	i := strings.LastIndexByte(string(raw), ')') // the command may hold spaces
	f := strings.Fields(string(raw[i+1:]))       // f[0] is field 3
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("read CPU time: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read CPU time: malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * (time.Second / 100), nil // USER_HZ
}

// freePort returns a loopback address with a port free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func writeSessions(w io.Writer, rs []sessionResult, settle time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sessions\tGOMEMLIMIT\tGOGC\tfill\tdaemon CPU\tSTS calls\tRSS before\tRSS after\tper session\theap alloc\theap in use\theap goal")
	mib := func(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
	for _, r := range rs {
		limit, gogc := r.MemLimit, r.GOGC
		if limit == "" {
			limit = "-"
		}
		if gogc == "" {
			gogc = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%v\t%d\t%s\t%s\t%.0f B\t%s\t%s\t%s\n", r.Sessions, limit, gogc, r.Fill.Round(time.Millisecond), r.CPU.Round(10*time.Millisecond), r.STSCalls,
			mib(float64(r.BaseKiB*1024)), mib(float64(r.RSSKiB*1024)), r.perSession(), mib(r.Heap.AllocBytes), mib(r.Heap.InuseBytes), mib(r.Heap.NextGCBytes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nsessions: on-demand sessions of one configured role, each asked for once (GET /v1/credentials/%s?session=...),\n"+
		"at sts.max_qps %v. RSS after: VmRSS of the daemon %v after the fill. per session: (after - before) / sessions.\n"+
		"daemon CPU: its user+system time during the fill. heap: the daemon's go_memstats after the fill.\n", sessionRole, rs[0].MaxQPS, settle)
	for _, r := range rs {
		if r.Profile != "" {
			fmt.Fprintf(w, "heap profile at %d sessions: %s (go tool pprof -sample_index=inuse_space %s)\n", r.Sessions, r.Profile, r.Profile)
		}
	}
	return nil
}

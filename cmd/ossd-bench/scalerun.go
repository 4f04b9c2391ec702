package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/localsts"
)

// start is what one start of the daemon measured.
type start struct {
	ready        time.Duration // process start to every role ok
	rss          int64         // KiB, once ready and settled
	calls        int           // AssumeRole calls the local STS received
	maxPerSecond int           // of those, the most within any one second
}

// startOnce starts the daemon with sc's roles in dir, waits until every
// role is ok, lets it settle, and measures it.
func (e *stsEnv) startOnce(ctx context.Context, bin, dir string, sc scenario, settle time.Duration) (start, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return start{}, err
	}
	sock, cfg := filepath.Join(dir, "ossd.sock"), filepath.Join(dir, "ossd.toml")
	if err := os.WriteFile(cfg, []byte(e.config(sock, sc.Roles, sc.MaxQPS)), 0o600); err != nil {
		return start{}, err
	}
	clk := clock.Real{}
	calls, since := e.sts.Calls(), clk.Now()
	t0 := clk.Mono()
	// A runtime directory of its own: each start is cold, with no tokens
	// kept by the one before.
	p, err := startProc(bin, []string{"serve", "--config", cfg}, nil, filepath.Join(dir, "ossd.stderr"), "RUNTIME_DIRECTORY="+dir)
	if err != nil {
		return start{}, err
	}
	defer p.stop()
	if err := waitReady(ctx, p, sock, sc.Roles, 5*time.Minute); err != nil {
		return start{}, err
	}
	st := start{ready: clk.Mono() - t0}
	select {
	case <-ctx.Done():
		return start{}, ctx.Err()
	case <-time.After(settle):
	}
	if st.rss, err = rssKiB(p.pid()); err != nil {
		return start{}, err
	}
	if err := p.stop(); err != nil {
		return start{}, fmt.Errorf("ossd: %w\nstderr:\n%s", err, p.stderr)
	}
	st.calls = e.sts.Calls() - calls
	st.maxPerSecond = maxPerSecond(e.sts.CallLog(), since)
	return st, nil
}

// maxPerSecond returns the most calls after since that arrived within any
// one second.
func maxPerSecond(log []localsts.Call, since time.Time) int {
	var at []time.Time
	for _, c := range log {
		if !c.At.Before(since) {
			at = append(at, c.At)
		}
	}
	slices.SortFunc(at, time.Time.Compare)
	best, lo := 0, 0
	for hi, t := range at {
		for !at[lo].After(t.Add(-time.Second)) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// waitReady polls /v1/roles every 10ms until n roles are "ok".
func waitReady(ctx context.Context, p *proc, socket string, n int, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	c := unixClient(socket)
	for {
		if body, err := socketGet(ctx, c, "/v1/roles"); err == nil && countOK(body) == n {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("ossd exited: %v\nstderr:\n%s", p.err, p.stderr)
		case <-ctx.Done():
			return fmt.Errorf("not every role ok within %v\nstderr:\n%s", within, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func countOK(body []byte) int {
	var v struct {
		Roles []struct {
			State string `json:"state"`
		} `json:"roles"`
	}
	if json.Unmarshal(body, &v) != nil {
		return -1
	}
	n := 0
	for _, r := range v.Roles {
		if r.State == "ok" {
			n++
		}
	}
	return n
}

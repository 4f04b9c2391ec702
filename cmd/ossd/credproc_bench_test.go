package main_test

import (
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// BenchmarkCredentialProcess measures a whole helper invocation, from
// process start to JSON, against a warm daemon, beside /bin/true (the floor
// of starting any process) and `ossd version` (the binary's own start-up
// with no socket round trip). Each iteration runs all three, interleaved,
// so machine load hits them alike; ns/op is the sum. Per-command median and
// p99 wall times and median CPU (user+sys) are reported as metrics.
//
//	go test ./cmd/ossd -run '^$' -bench CredentialProcess -benchtime 400x
func BenchmarkCredentialProcess(b *testing.B) {
	var calls atomic.Int32
	sock := fixedDaemon(b, fixedFetch(&calls), "reader")
	cmds := []struct {
		name string
		argv []string
	}{
		{"true", []string{"/bin/true"}},
		{"version", []string{ossdBin, "version"}},
		{"helper", []string{ossdBin, "credential-process", "--role", "reader", "--socket", sock}},
	}
	wall := make([][]time.Duration, len(cmds))
	cpu := make([][]time.Duration, len(cmds))
	clk := clock.Real{}
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range cmds {
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Env = []string{}
			start := clk.Now()
			out, err := cmd.Output()
			wall[i] = append(wall[i], clk.Now().Sub(start))
			if err != nil || (c.name == "helper" && len(out) < 100) {
				b.Fatalf("%s: %v, %d bytes out", c.name, err, len(out))
			}
			cpu[i] = append(cpu[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	for i, c := range cmds {
		b.ReportMetric(ms(percentile(wall[i], 50)), c.name+"-median-ms")
		b.ReportMetric(ms(percentile(wall[i], 99)), c.name+"-p99-ms")
		b.ReportMetric(ms(percentile(cpu[i], 50)), c.name+"-cpu-ms")
	}
	if calls.Load() != 1 {
		b.Errorf("STS calls = %d, want 1", calls.Load())
	}
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/ossd/ossd/bench"
	"github.com/ossd/ossd/internal/clock"
)

// helperCmd is one command the helper benchmark runs.
type helperCmd struct {
	Name   string
	Argv   []string
	Want   string  // its stdout must start with this; "" = anything
	Target float64 // most its ratio to the floor may be; 0 = none
}

// helperResult is what one command measured.
type helperResult struct {
	Name         string          `json:"name"`
	Wall         []time.Duration `json:"wall_ns"`
	CPU          []time.Duration `json:"cpu_ns"`
	Faults       []int64         `json:"minor_faults"`
	Median       time.Duration   `json:"median_ns"`
	P90          time.Duration   `json:"p90_ns"`
	P99          time.Duration   `json:"p99_ns"`
	CPUMedian    time.Duration   `json:"cpu_median_ns"`
	FaultsMedian int64           `json:"minor_faults_median"`
	// Ratio is the median over rounds of this command's time over the
	// floor's time in the same round.
	Ratio  float64 `json:"ratio_to_floor"`
	Target float64 `json:"target,omitempty"`
}

// sample is one run of one command.
type sample struct {
	wall, cpu time.Duration
	faults    int64
}

// timeHelpers runs warmup unmeasured rounds, then runs measured ones. Each
// round runs every command once, starting one later each round, so that no
// command always follows the same other one. cmds[0] is the floor.
func timeHelpers(ctx context.Context, cmds []helperCmd, warmup, runs int) ([]helperResult, error) {
	res := make([]helperResult, len(cmds))
	for i, c := range cmds {
		res[i] = helperResult{Name: c.Name, Target: c.Target}
	}
	ratios := make([][]float64, len(cmds))
	round := make([]sample, len(cmds))
	for r := range warmup + runs {
		for k := range cmds {
			i := (r + k) % len(cmds)
			s, err := runOnce(ctx, cmds[i])
			if err != nil {
				return nil, err
			}
			round[i] = s
		}
		if r < warmup {
			continue
		}
		for i, s := range round {
			res[i].Wall, res[i].CPU, res[i].Faults = append(res[i].Wall, s.wall), append(res[i].CPU, s.cpu), append(res[i].Faults, s.faults)
			ratios[i] = append(ratios[i], float64(s.wall)/float64(round[0].wall))
		}
	}
	for i := range res {
		res[i].summarise(ratios[i])
	}
	return res, nil
}

// runOnce runs c with an empty environment and checks its output.
func runOnce(ctx context.Context, c helperCmd) (sample, error) {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = []string{}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	clk := clock.Real{}
	start := clk.Mono()
	err := cmd.Run()
	wall := clk.Mono() - start
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w\n%s", c.Name, err, errOut.Bytes())
	}
	if !bytes.HasPrefix(out.Bytes(), []byte(c.Want)) {
		return sample{}, fmt.Errorf("%s: stdout does not start with %s (%d bytes)", c.Name, c.Want, out.Len())
	}
	s := sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.faults = ru.Minflt
	}
	return s, nil
}

func (r *helperResult) summarise(ratios []float64) {
	wall, cpu, faults := slices.Sorted(slices.Values(r.Wall)), slices.Sorted(slices.Values(r.CPU)), slices.Sorted(slices.Values(r.Faults))
	r.Median, r.P90, r.P99 = bench.Percentile(wall, 0.5), bench.Percentile(wall, 0.9), bench.Percentile(wall, 0.99)
	r.CPUMedian = bench.Percentile(cpu, 0.5)
	r.FaultsMedian = faults[(len(faults)-1)/2]
	slices.Sort(ratios)
	r.Ratio = ratios[(len(ratios)-1)/2]
}

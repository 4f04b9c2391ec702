package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func result(tput float64, p99 time.Duration, errors int) Result {
	return Result{Summary: Summary{Ops: int(tput), Throughput: tput, P99: p99, Errors: errors}}
}

func TestCompare(t *testing.T) {
	c := Cell{Target: "socket", Clients: 64,
		Ossd:  []Result{result(900, 2*time.Millisecond, 1), result(700, 4*time.Millisecond, 0), result(800, 3*time.Millisecond, 0)},
		Limit: []Result{result(1000, 2*time.Millisecond, 0), result(1000, 2*time.Millisecond, 2), result(400, 1*time.Millisecond, 0)},
	}
	got := Compare(c)
	// Per-round throughput ratios 0.9, 0.7, 2.0: median 0.9. p99 ratios
	// 1, 2, 3: median 2.
	if got.ThroughputRatio != 0.9 || got.P99Ratio != 2 {
		t.Errorf("ratios = %v, %v; want 0.9, 2", got.ThroughputRatio, got.P99Ratio)
	}
	if got.Ossd.Throughput != 800 || got.Limit.Throughput != 1000 {
		t.Errorf("median rounds = %v, %v; want 800, 1000", got.Ossd.Throughput, got.Limit.Throughput)
	}
	if got.OssdErrors != 1 || got.LimitErrors != 2 || got.Rounds != 3 {
		t.Errorf("errors %d/%d rounds %d; want 1/2, 3", got.OssdErrors, got.LimitErrors, got.Rounds)
	}
}

func TestCompareIgnoresUnpairedRounds(t *testing.T) {
	c := Cell{Ossd: []Result{result(500, time.Millisecond, 0), result(1, time.Hour, 9)}, Limit: []Result{result(1000, time.Millisecond, 0)}}
	got := Compare(c)
	if got.Rounds != 1 || got.ThroughputRatio != 0.5 || got.OssdErrors != 0 {
		t.Errorf("Compare = %+v; want one round, ratio 0.5, no errors", got)
	}
	if empty := Compare(Cell{}); empty.Rounds != 0 || empty.ThroughputRatio != 0 {
		t.Errorf("Compare(empty) = %+v", empty)
	}
}

func TestWriteTable(t *testing.T) {
	cs := []Comparison{
		{Target: "socket", Clients: 64, Rounds: 3, ThroughputRatio: 0.871, P99Ratio: 1.3, OssdErrors: 2,
			Ossd:  Result{Summary: Summary{Throughput: 30123.4, P50: 1500 * time.Microsecond, P99: 4 * time.Millisecond, P999: 12345 * time.Microsecond, Max: 20 * time.Millisecond}},
			Limit: Result{Summary: Summary{Throughput: 34567, P50: 1200 * time.Microsecond, P99: 3 * time.Millisecond, P999: 9 * time.Millisecond, Max: 15 * time.Millisecond}}},
		{Target: "socket", Clients: 4, Rounds: 3, ThroughputRatio: 0.95, P99Ratio: 1.1,
			Ossd:  Result{Summary: Summary{Ops: 100, Throughput: 20000, P50: 150 * time.Microsecond, P99: 850 * time.Microsecond, P999: 2 * time.Millisecond, Max: 3 * time.Millisecond}},
			Limit: Result{Summary: Summary{Throughput: 21000, P50: 140 * time.Microsecond, P99: 700 * time.Microsecond, P999: 1 * time.Millisecond, Max: 3 * time.Millisecond}}},
	}
	aims := append(Aims(), Aim{"uri", 64, "anything", func(Comparison) (string, bool) { return "x", true }})
	var b bytes.Buffer
	if err := WriteTable(&b, cs, aims); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"target  clients  server  ops/s  p50     p99     p99.9   max     errors",
		"socket  64       ossd    30123  1.50ms  4.00ms  12.3ms  20.0ms  2",
		"                 limit   34567  1.20ms  3.00ms  9.00ms  15.0ms  0",
		"                 ratio   0.87           1.30\n",
		"socket  4        ossd    20000  150µs   850µs   2.00ms  3.00ms  0",
		"  socket, 64 clients  throughput >= 0.85 x limit  0.87   met\n",
		"  socket, 64 clients  p99 <= 1.2 x limit's p99    1.30   NOT MET\n",
		"  socket, 4 clients   p99 < 1ms                   850µs  met\n",
		"  uri, 64 clients     anything                    -      not measured\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.00µs"},
		{2500, "2.50µs"},
		{123456, "123µs"},
		{999499, "999µs"},
		{1234567, "1.23ms"},
		{12345678, "12.3ms"},
		{2 * time.Second, "2000.0ms"},
	}
	for _, tc := range tests {
		if got := fmtDuration(tc.d); got != tc.want {
			t.Errorf("fmtDuration(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

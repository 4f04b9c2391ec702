package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

func ms(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.99, 0},
		{"one sample", ms(7), 0.5, 7 * time.Millisecond},
		{"one sample p99.9", ms(7), 0.999, 7 * time.Millisecond},
		{"1..100 p50", seq(100), 0.50, 50 * time.Millisecond},
		{"1..100 p99", seq(100), 0.99, 99 * time.Millisecond},
		{"1..100 p99.9", seq(100), 0.999, 100 * time.Millisecond},
		{"1..100 max", seq(100), 1, 100 * time.Millisecond},
		{"1..1000 p99.9", seq(1000), 0.999, 999 * time.Millisecond},
		{"1..1000 p99", seq(1000), 0.99, 990 * time.Millisecond},
		{"1..10 p50", seq(10), 0.5, 5 * time.Millisecond},
		{"1..10 p99", seq(10), 0.99, 10 * time.Millisecond},
		{"tiny q is the minimum", seq(10), 0.0001, 1 * time.Millisecond},
		{"ties", ms(1, 1, 1, 5), 0.5, 1 * time.Millisecond},
		{"1..3 p50", seq(3), 0.5, 2 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := Percentile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("%s: Percentile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

// TestPercentileMatchesDefinition checks the nearest-rank definition on
// random data: at least a fraction q of the samples are <= the answer, and
// fewer than that are < it.
func TestPercentileMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + r.IntN(3000)
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(r.IntN(500))
		}
		sum := Summarize(s, 0, time.Second) // sorts s
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			p := Percentile(s, q)
			le, lt := 0, 0
			for _, v := range s {
				if v <= p {
					le++
				}
				if v < p {
					lt++
				}
			}
			if float64(le) < q*float64(n)-1e-9 || float64(lt) >= q*float64(n) {
				t.Fatalf("n=%d q=%v: p=%v has %d <= and %d < of %d", n, q, p, le, lt, n)
			}
		}
		if sum.P50 > sum.P99 || sum.P99 > sum.P999 || sum.P999 > sum.Max {
			t.Fatalf("percentiles out of order: %+v", sum)
		}
	}
}

func TestSummarize(t *testing.T) {
	s := ms(30, 10, 20, 40) // unsorted on purpose
	got := Summarize(s, 3, 2*time.Second)
	want := Summary{Ops: 4, Errors: 3, Window: 2 * time.Second, Throughput: 2,
		P50: 20 * time.Millisecond, P99: 40 * time.Millisecond, P999: 40 * time.Millisecond, Max: 40 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if empty := Summarize(nil, 1, 0); empty.Throughput != 0 || empty.Max != 0 || empty.Errors != 1 {
		t.Errorf("Summarize(nil) = %+v", empty)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2}, // the lower middle
	}
	for _, tc := range tests {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median changed its input: %v", in)
			}
		}
	}
}

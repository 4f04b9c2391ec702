package bench

import (
	"slices"
	"time"
)

// Summary describes one measured run.
type Summary struct {
	Ops        int           `json:"ops"`         // successful operations in the window
	Errors     int           `json:"errors"`      // failed operations in the window
	Window     time.Duration `json:"window_ns"`   // how long the run was measured
	Throughput float64       `json:"ops_per_sec"` // Ops / Window
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	P999       time.Duration `json:"p999_ns"`
	Max        time.Duration `json:"max_ns"`
}

// Summarize sorts samples (the latency of every successful operation) in
// place and returns their exact percentiles and the throughput over window.
func Summarize(samples []time.Duration, errors int, window time.Duration) Summary {
	slices.Sort(samples)
	s := Summary{Ops: len(samples), Errors: errors, Window: window}
	if window > 0 {
		s.Throughput = float64(len(samples)) / window.Seconds()
	}
	s.P50 = Percentile(samples, 0.50)
	s.P99 = Percentile(samples, 0.99)
	s.P999 = Percentile(samples, 0.999)
	if len(samples) > 0 {
		s.Max = samples[len(samples)-1]
	}
	return s
}

// Percentile returns the q-quantile (0 < q <= 1) of sorted by the
// nearest-rank method: the smallest sample such that at least a fraction q
// of all samples are less than or equal to it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(q*n), computed in integers where q*n is a whole number, so
	// that 0.99*100 is rank 99 and not 100 through rounding error.
	scaled := q * float64(n)
	rank := int(scaled)
	if float64(rank) < scaled-1e-9 {
		rank++
	}
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// median returns the median of xs (the lower middle for an even count),
// without changing xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

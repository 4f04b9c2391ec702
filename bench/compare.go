package bench

import (
	"slices"
	"time"
)

// Cell is one target at one concurrency, measured in interleaved rounds
// against ossd and against the limit.
type Cell struct {
	Target  string   `json:"target"`
	Clients int      `json:"clients"`
	Ossd    []Result `json:"ossd"`  // one per round
	Limit   []Result `json:"limit"` // one per round, paired with Ossd
}

// Comparison is what a Cell reports: each server's median round, and the
// medians of the per-round ratios (each ossd round against the limit round
// run next to it, so that drift on a shared machine cancels out).
type Comparison struct {
	Target          string  `json:"target"`
	Clients         int     `json:"clients"`
	Rounds          int     `json:"rounds"`
	Ossd            Result  `json:"ossd"`             // the median round by throughput
	Limit           Result  `json:"limit"`            // the median round by throughput
	ThroughputRatio float64 `json:"throughput_ratio"` // ossd / limit; higher is better
	P99Ratio        float64 `json:"p99_ratio"`        // ossd / limit; lower is better
	OssdErrors      int     `json:"ossd_errors"`      // failed operations, all rounds
	LimitErrors     int     `json:"limit_errors"`     // failed operations, all rounds
}

// Compare summarises c. Rounds without a partner are ignored.
func Compare(c Cell) Comparison {
	n := min(len(c.Ossd), len(c.Limit))
	out := Comparison{Target: c.Target, Clients: c.Clients, Rounds: n}
	if n == 0 {
		return out
	}
	var tput, p99 []float64
	for i := range n {
		o, l := c.Ossd[i], c.Limit[i]
		out.OssdErrors += o.Errors
		out.LimitErrors += l.Errors
		tput = append(tput, ratio(o.Throughput, l.Throughput))
		p99 = append(p99, ratio(float64(o.P99), float64(l.P99)))
	}
	out.ThroughputRatio, out.P99Ratio = median(tput), median(p99)
	out.Ossd, out.Limit = medianRound(c.Ossd[:n]), medianRound(c.Limit[:n])
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// medianRound returns the round with the median throughput (the lower
// middle for an even count).
func medianRound(rs []Result) Result {
	s := slices.Clone(rs)
	slices.SortStableFunc(s, func(a, b Result) int {
		switch {
		case a.Throughput < b.Throughput:
			return -1
		case a.Throughput > b.Throughput:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

// Aim is a goal a Comparison is checked against.
type Aim struct {
	Target  string
	Clients int
	What    string // shown in the table
	Met     func(Comparison) (value string, ok bool)
}

// Aims are the goals of the Unix-socket path: at 64 clients, at least 0.85
// of the limit's throughput and a p99 at most 1.2 times the limit's; at 4
// clients, a p99 under a millisecond.
func Aims() []Aim {
	return []Aim{
		{"socket", 64, "throughput >= 0.85 x limit", func(c Comparison) (string, bool) {
			return fmtRatio(c.ThroughputRatio), c.ThroughputRatio >= 0.85
		}},
		{"socket", 64, "p99 <= 1.2 x limit's p99", func(c Comparison) (string, bool) {
			return fmtRatio(c.P99Ratio), c.P99Ratio > 0 && c.P99Ratio <= 1.2
		}},
		{"socket", 4, "p99 < 1ms", func(c Comparison) (string, bool) {
			return fmtDuration(c.Ossd.P99), c.Ossd.Ops > 0 && c.Ossd.P99 < time.Millisecond
		}},
	}
}

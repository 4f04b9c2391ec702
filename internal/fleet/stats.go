package fleet

import (
	"slices"
	"time"
)

// stats counts what the measured part of a run did: calls by second,
// callers' requests by outcome.
type stats struct {
	attempts, accepted []int32 // by measured second
	throttled          int64

	requests, hits, degraded, unserved int64 // callers' requests, by Peek's answer
	belowFloor, belowHard, expired     int64 // served tokens, judged by the account's expiry
}

func newStats(run time.Duration) *stats {
	n := int((run + time.Second - 1) / time.Second)
	return &stats{attempts: make([]int32, n), accepted: make([]int32, n)}
}

// call counts one AssumeRole call at simulated time t; ok says whether the
// account accepted it.
func (s *stats) call(t time.Duration, ok bool) {
	sec := int(t / time.Second)
	if t < 0 || sec >= len(s.attempts) {
		return
	}
	s.attempts[sec]++
	if ok {
		s.accepted[sec]++
	} else {
		s.throttled++
	}
}

// served counts one caller's request answered with a token that had left
// of true lifetime, and result as Peek named it.
func (s *stats) served(result string, left, floor, hardMin time.Duration) {
	s.requests++
	if result == "degraded" {
		s.degraded++
	} else {
		s.hits++
	}
	switch {
	case left <= 0:
		s.expired++
	case left <= hardMin:
		s.belowHard++
	case left <= floor:
		s.belowFloor++
	}
}

// Percentiles summarise a number measured once per simulated second.
type Percentiles struct {
	P50 int `json:"p50"`
	P90 int `json:"p90"`
	P99 int `json:"p99"`
	Max int `json:"max"`
}

func percentiles(perSecond []int32) Percentiles {
	if len(perSecond) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(perSecond)
	slices.Sort(s)
	at := func(q float64) int { return int(s[min(len(s)-1, int(q*float64(len(s))))]) }
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: int(s[len(s)-1])}
}

// Bucket is how many simulated seconds saw between Low and High calls
// (inclusive).
type Bucket struct {
	Low     int `json:"low"`
	High    int `json:"high"`
	Seconds int `json:"seconds"`
}

// histogram sorts seconds into buckets around limit: none, up to a
// quarter, a half, three quarters and all of it, then up to 2, 10, 100
// times it and beyond. Empty buckets are left out.
func histogram(perSecond []int32, limit int) []Bucket {
	edges := []int{0, limit / 4, limit / 2, limit * 3 / 4, limit, 2 * limit, 10 * limit, 100 * limit, 1 << 30}
	var out []Bucket
	low := 0
	for _, high := range slices.Compact(edges) {
		n := 0
		for _, v := range perSecond {
			if int(v) >= low && int(v) <= high {
				n++
			}
		}
		if n > 0 {
			out = append(out, Bucket{Low: low, High: high, Seconds: n})
		}
		low = high + 1
	}
	return out
}

// Minute is what one simulated minute saw at STS.
type Minute struct {
	Minute    int `json:"minute"`
	Attempts  int `json:"attempts"`
	Accepted  int `json:"accepted"`
	MaxPerSec int `json:"max_attempts_per_second"`
}

func minutes(attempts, accepted []int32) []Minute {
	var out []Minute
	for i := 0; i < len(attempts); i += 60 {
		m := Minute{Minute: i / 60}
		for j := i; j < min(i+60, len(attempts)); j++ {
			m.Attempts += int(attempts[j])
			m.Accepted += int(accepted[j])
			m.MaxPerSec = max(m.MaxPerSec, int(attempts[j]))
		}
		out = append(out, m)
	}
	return out
}

func sum(v []int32) int64 {
	var n int64
	for _, x := range v {
		n += int64(x)
	}
	return n
}

package metrics

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// labels are the values of a series' labels, in the order of its family's
// label names; unused trailing entries are "". An array, so that it is a
// map key that costs no allocation to build.
type labels [3]string

// counter is a family of counters with up to three labels.
type counter struct {
	name, help string
	names      []string     // label names
	mu         sync.RWMutex // guards series
	series     map[labels]*atomic.Uint64
}

func newCounter(name, help string, names ...string) *counter {
	if len(names) > len(labels{}) {
		panic("metrics: too many labels for " + name) // a programming error
	}
	return &counter{name: name, help: help, names: names, series: map[labels]*atomic.Uint64{}}
}

// inc adds one to the series of l.
func (c *counter) inc(l labels) {
	c.mu.RLock()
	n := c.series[l]
	c.mu.RUnlock()
	if n == nil {
		c.mu.Lock()
		if n = c.series[l]; n == nil {
			n = new(atomic.Uint64)
			c.series[l] = n
		}
		c.mu.Unlock()
	}
	n.Add(1)
}

// write appends c in the Prometheus text format, series sorted by labels.
func (c *counter) write(b []byte) []byte {
	type point struct {
		l labels
		n *atomic.Uint64
	}
	c.mu.RLock()
	points := make([]point, 0, len(c.series))
	for l, n := range c.series {
		points = append(points, point{l, n})
	}
	c.mu.RUnlock()
	slices.SortFunc(points, func(x, y point) int { return slices.Compare(x.l[:], y.l[:]) })
	b = header(b, c.name, c.help, "counter")
	for _, p := range points {
		b = sample(b, c.name, c.names, p.l[:len(c.names)], "", "")
		b = strconv.AppendUint(b, p.n.Load(), 10)
		b = append(b, '\n')
	}
	return b
}

// histogram is one histogram without labels.
type histogram struct {
	name, help string
	bounds     []float64  // upper bounds, ascending; +Inf is implied
	mu         sync.Mutex // guards counts, sum and count
	counts     []uint64   // per bucket, not cumulative; the last is +Inf
	sum        float64
	count      uint64
}

func newHistogram(name, help string, bounds []float64) *histogram {
	return &histogram{name: name, help: help, bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // the first bound >= v: buckets are "less than or equal"
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.count++
	h.mu.Unlock()
}

func (h *histogram) write(b []byte) []byte {
	h.mu.Lock()
	counts, sum, count := slices.Clone(h.counts), h.sum, h.count
	h.mu.Unlock()
	b = header(b, h.name, h.help, "histogram")
	var cum uint64
	for i, n := range counts {
		cum += n
		le := "+Inf"
		if i < len(h.bounds) {
			le = formatFloat(h.bounds[i])
		}
		b = sample(b, h.name+"_bucket", nil, nil, "le", le)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = append(b, h.name+"_sum "+formatFloat(sum)+"\n"...)
	b = append(b, h.name+"_count "...)
	b = strconv.AppendUint(b, count, 10)
	return append(b, '\n')
}

// gauges writes a gauge family with one label from values, sorted by label.
func gauges(b []byte, name, help, label string, values map[string]float64) []byte {
	b = header(b, name, help, "gauge")
	for _, k := range slices.Sorted(maps.Keys(values)) {
		b = sample(b, name, []string{label}, []string{k}, "", "")
		b = append(b, formatFloat(values[k])+"\n"...)
	}
	return b
}

func header(b []byte, name, help, typ string) []byte {
	b = append(b, "# HELP "+name+" "...)
	b = append(b, escape(help, false)...)
	return append(b, "\n# TYPE "+name+" "+typ+"\n"...)
}

// sample appends a sample's name and labels, and a space before its value.
// extra, when not "", is one more label (a histogram's le).
func sample(b []byte, name string, names, values []string, extra, extraValue string) []byte {
	b = append(b, name...)
	if len(names) == 0 && extra == "" {
		return append(b, ' ')
	}
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n+`="`...)
		b = append(b, escape(values[i], true)...)
		b = append(b, '"')
	}
	if extra != "" {
		if len(names) > 0 {
			b = append(b, ',')
		}
		b = append(b, extra+`="`+extraValue+`"`...)
	}
	return append(b, "} "...)
}

// escape escapes s for a HELP line or, with quote, a label value: backslash
// and newline, and in a label value the double quote.
func escape(s string, quote bool) string {
	if !strings.ContainsAny(s, "\\\n\"") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	if quote {
		r = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	}
	return r.Replace(s)
}

// formatFloat formats v as the text format spells it.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

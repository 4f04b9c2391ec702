package bench

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints cs as a table, three lines a cell (ossd, the limit, and
// the ratios), followed by each aim and whether it was met.
func WriteTable(w io.Writer, cs []Comparison, aims []Aim) error {
	var b bytes.Buffer
	writeTable(&b, cs, aims)
	for line := range strings.Lines(b.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func writeTable(w io.Writer, cs []Comparison, aims []Aim) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tclients\tserver\tops/s\tp50\tp99\tp99.9\tmax\terrors")
	for _, c := range cs {
		row(tw, c.Target, strconv.Itoa(c.Clients), "ossd", c.Ossd, c.OssdErrors)
		row(tw, "", "", "limit", c.Limit, c.LimitErrors)
		fmt.Fprintf(tw, "\t\tratio\t%s\t\t%s\t\t\t\n", fmtRatio(c.ThroughputRatio), fmtRatio(c.P99Ratio))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nratio: median over rounds of ossd/limit, each ossd round paired with the limit round beside it;")
	fmt.Fprintln(w, "ossd and limit rows: each server's median round by throughput. errors: failed operations over all rounds.")
	if len(aims) == 0 {
		return
	}
	fmt.Fprintln(w, "\naims:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range aims {
		value, verdict := "-", "not measured"
		if c, ok := find(cs, a.Target, a.Clients); ok {
			var met bool
			value, met = a.Met(c)
			verdict = "NOT MET"
			if met {
				verdict = "met"
			}
		}
		fmt.Fprintf(tw, "  %s, %d clients\t%s\t%s\t%s\n", a.Target, a.Clients, a.What, value, verdict)
	}
	tw.Flush()
}

func row(w io.Writer, target, clients, server string, r Result, errors int) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%d\n", target, clients, server, r.Throughput,
		fmtDuration(r.P50), fmtDuration(r.P99), fmtDuration(r.P999), fmtDuration(r.Max), errors)
}

func find(cs []Comparison, target string, clients int) (Comparison, bool) {
	for _, c := range cs {
		if c.Target == target && c.Clients == clients {
			return c, true
		}
	}
	return Comparison{}, false
}

func fmtRatio(r float64) string { return strconv.FormatFloat(r, 'f', 2, 64) }

// fmtDuration prints d in µs below a millisecond and in ms above, with
// three significant digits or more.
func fmtDuration(d time.Duration) string {
	switch {
	case d < 10*time.Microsecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 2, 64) + "µs"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	}
}

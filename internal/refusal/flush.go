package refusal

import (
	"context"
	"strconv"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/peer"
)

// Run writes the summary lines every [Interval] until ctx ends, then writes
// the pending ones and returns nil.
func (r *Recorder) Run(ctx context.Context) error {
	t := r.clk.NewTimer(Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Flush()
			return nil
		case <-t.C():
			r.Flush()
			t.Reset(Interval)
		}
	}
}

// summary is a group's line to write.
type summary struct {
	group
	window
}

// Flush writes a summary line for every group with refusals not yet
// written, and forgets the groups that had none since their last line.
func (r *Recorder) Flush() {
	if r == nil {
		return
	}
	now := r.clk.Now()
	var due []summary
	r.mu.Lock()
	for g, w := range r.open {
		if w.count == 0 {
			delete(r.open, g)
			if c := (caller{g.known, g.uid}); !g.all {
				if r.perCaller[c]--; r.perCaller[c] <= 0 {
					delete(r.perCaller, c)
				}
			}
			continue
		}
		due = append(due, summary{g, *w})
		w.count, w.since = 0, now
	}
	r.mu.Unlock()
	for _, s := range due {
		r.write(s, now)
	}
}

func (r *Recorder) write(s summary, now time.Time) {
	if s.sink == sinkAudit {
		r.audit.Log(audit.Event{Kind: s.kind, Role: s.role, Path: s.via, Result: s.reason, Count: s.count, Since: s.since,
			Caller: callerOf(s.group)}) // a failure is counted in the Logger's State
		return
	}
	who := "unidentified"
	switch {
	case s.all:
		who = Various
	case s.known:
		who = "uid=" + itoa(s.uid)
	}
	r.log.Log(context.Background(), levelOf(s.status), "request refused repeatedly", "listener", s.via, "caller", who, "role", s.role,
		"status", s.status, "code", s.reason, "count", s.count, "since", s.since.UTC().Format(time.RFC3339), "seconds", int(now.Sub(s.since).Seconds()))
}

func callerOf(g group) peer.Identity { return peer.Identity{Known: g.known, UID: g.uid} }

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

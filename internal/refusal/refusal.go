package refusal

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
)

// Interval is how long the repeats of a refusal are counted before their
// summary line is written: short enough that an operator watching the log
// sees a flood within seconds, long enough that a flood costs a handful of
// lines a minute.
const Interval = 10 * time.Second

// Bounds on the groups counted at once.
const (
	maxGroups    = 4096 // in all; past it, every new group shares one catch-all
	maxPerCaller = 16   // per caller uid; past it, one catch-all per listener and kind
)

// Summary role and reason names. Neither is a valid role name, so neither
// can be mistaken for one.
const (
	Unconfigured = "(unconfigured)" // the role of refusals naming roles that are not configured
	Various      = "(various)"      // the role and reason of a catch-all group
)

// Refusal is one refused request, for the operational log.
type Refusal struct {
	Caller peer.Identity // who asked; Via names the listener
	Role   string        // the role asked for, as asked; "" if none
	Status int           // the HTTP status sent
	Code   string        // the stable error code sent
	Err    error         // what the first line of a group says; may be nil
}

// Options configure a Recorder.
type Options struct {
	Audit *audit.Logger // nil: [Recorder.Audit] writes nothing
	Log   *slog.Logger  // nil: discard
	Clock clock.Clock   // nil = real
	// Known reports whether a role is configured; nil treats every role
	// as configured.
	Known func(role string) bool
	// Count, if set, is called for every refusal given to [Recorder.Log],
	// grouped or not (metrics).
	Count func(listener, code string)
}

// sink is which log a group is written to.
type sink uint8

const (
	sinkAudit sink = iota
	sinkLog
)

// group is the key refusals are counted under.
type group struct {
	sink   sink
	all    bool // the catch-all of every caller
	known  bool // the caller was identified
	uid    uint32
	via    string
	role   string
	kind   string // audit event kind; "" for the operational log
	reason string // audit result, or the error code
}

// window counts a group's refusals since its last line.
type window struct {
	since  time.Time
	count  int
	status int // the operational log's: of the group's first refusal
}

type caller struct {
	known bool
	uid   uint32
}

// Recorder writes refusals, grouped.
type Recorder struct {
	audit *audit.Logger
	log   *slog.Logger
	clk   clock.Clock
	known func(string) bool
	count func(listener, code string)

	mu        sync.Mutex // guards open and perCaller
	open      map[group]*window
	perCaller map[caller]int // groups open per caller
}

// New returns a Recorder.
func New(o Options) *Recorder {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{audit: o.Audit, log: log.With("component", "refusal"), clk: clock.Or(o.Clock), known: o.Known, count: o.Count,
		open: map[group]*window{}, perCaller: map[caller]int{}}
}

// Audit writes e, the audit event of a refusal, to the audit log: in full
// if it is the first of its group, else as a count in the group's next
// summary line. A line that cannot be written is counted by the audit
// Logger; nothing is handed out on a refusal, so nothing waits on it.
func (r *Recorder) Audit(e audit.Event) {
	if r == nil || r.audit == nil {
		return
	}
	g := group{sink: sinkAudit, known: e.Caller.Known, uid: uidOf(e.Caller), via: e.Path, role: e.Role, kind: e.Kind, reason: e.Result}
	if r.first(g, 0) {
		r.audit.Log(e) // a failure is counted in the Logger's State; see above
	}
}

// Log writes f to the operational log, grouped like [Recorder.Audit].
// Refusals the daemon answered with a 5xx are warnings; others are info.
func (r *Recorder) Log(f Refusal) {
	if r == nil {
		return
	}
	if r.count != nil {
		r.count(f.Caller.Via, f.Code)
	}
	g := group{sink: sinkLog, known: f.Caller.Known, uid: uidOf(f.Caller), via: f.Caller.Via, role: f.Role, reason: f.Code}
	if !r.first(g, f.Status) {
		return
	}
	attrs := []any{"listener", f.Caller.Via, "caller", f.Caller.String(), "role", clip(f.Role), "status", f.Status, "code", f.Code}
	if f.Err != nil {
		attrs = append(attrs, "err", f.Err)
	}
	r.log.Log(context.Background(), levelOf(f.Status), "request refused", attrs...)
}

// Limited records a request refused by the rate limit, in both logs; it
// is a [ratelimit.Options] OnLimited.
func (r *Recorder) Limited(id peer.Identity) {
	r.Audit(audit.Event{Kind: audit.KindLimit, Caller: id, Path: id.Via, Result: ratelimit.Code})
	r.Log(Refusal{Caller: id, Status: http.StatusTooManyRequests, Code: ratelimit.Code, Err: ratelimit.ErrLimited})
}

// first counts one refusal of g and reports whether it opens the group, so
// that it is to be written in full.
func (r *Recorder) first(g group, status int) bool {
	if g.role != "" && r.known != nil && !r.known(g.role) {
		g.role = Unconfigured
	}
	c := caller{g.known, g.uid}
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.open[g]; ok {
		w.count++
		return false
	}
	switch {
	case len(r.open) >= maxGroups:
		g = group{sink: g.sink, all: true, role: Various, reason: Various}
	case r.perCaller[c] >= maxPerCaller:
		g.role, g.reason = Various, Various
	}
	if w, ok := r.open[g]; ok {
		w.count++
		return false
	}
	r.open[g] = &window{since: r.clk.Now(), status: status}
	if !g.all {
		r.perCaller[c]++
	}
	return true
}

func uidOf(id peer.Identity) uint32 {
	if !id.Known {
		return 0
	}
	return id.UID
}

func levelOf(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// clip bounds a caller-chosen string in the operational log.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

package ready

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/service"
)

// Role is a role that cannot be served.
type Role struct {
	Name  string `json:"name"`
	State string `json:"state"`          // "failing"
	Code  string `json:"code,omitempty"` // the STS error code of the last attempt
	Error string `json:"error,omitempty"`
}

// Report is the daemon's readiness.
type Report struct {
	Ready   bool     `json:"ready"`
	Roles   int      `json:"roles"`   // configured roles this caller may see
	Failing []Role   `json:"failing"` // roles that cannot be served
	Pending []string `json:"pending"` // roles not tried yet
	// Hidden counts the roles not ready that this caller may not have; they
	// are not named.
	Hidden     int     `json:"hidden_not_ready,omitempty"`
	LastReload *Reload `json:"last_reload,omitempty"`
	STS        *STS    `json:"sts,omitempty"`
}

// STS is what the daemon knows of STS.
type STS struct {
	// ClockOffsetSeconds is STS's clock minus ours at the last successful
	// AssumeRole; tokens are judged by our monotonic clock whatever it is.
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
	// RateLimit is the AssumeRole rate the daemon allows itself now;
	// MaxQPS is what the config allows.
	RateLimit float64 `json:"rate_limit"`
	MaxQPS    float64 `json:"max_qps"`
}

// servable reports whether a role in state st hands out tokens. A
// per-caller role has no one session to judge: each caller's is fetched
// when it asks.
func servable(st string) bool { return st == "ok" || st == "degraded" || st == "per-caller" }

// Check reports on roles (every configured role). visible says which roles
// the caller may have; nil means all. last is the last config load, or nil.
func Check(roles []service.RoleStatus, visible func(name string) bool, last *Reload) Report {
	r := Report{Ready: true, Failing: []Role{}, Pending: []string{}}
	for _, st := range roles {
		seen := visible == nil || visible(st.Name)
		if seen {
			r.Roles++
		}
		if servable(st.State) {
			continue
		}
		r.Ready = false
		switch {
		case !seen:
			r.Hidden++
		case st.State == "pending":
			r.Pending = append(r.Pending, st.Name)
		default:
			r.Failing = append(r.Failing, Role{Name: st.Name, State: st.State, Code: st.ErrorCode, Error: st.LastError})
		}
	}
	if last != nil {
		l := *last
		if r.Hidden > 0 || (visible != nil && r.Roles < len(roles)) {
			l.Error = "" // it may name roles this caller may not have
		}
		r.LastReload = &l
	}
	return r
}

// Handler serves GET /readyz: the report as JSON, with 200 when ready and
// 503 when not.
func Handler(report func(*http.Request) Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, `{"Code":"MethodNotAllowed","Message":"use GET"}`, http.StatusMethodNotAllowed)
			return
		}
		rep := report(req)
		body, err := json.Marshal(rep)
		if err != nil { // a Report always encodes
			http.Error(w, `{"Code":"InternalError"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write(append(body, '\n')) // a failed write is the caller hanging up
	})
}

// Pending reports whether any role has not been tried yet.
func Pending(roles []service.RoleStatus) bool {
	for _, st := range roles {
		if st.State == "pending" {
			return true
		}
	}
	return false
}

// WaitTried blocks until status reports no pending role, checking every
// interval on clk, and returns the roles as they then are. It returns
// ctx's error if ctx ends first.
func WaitTried(ctx context.Context, clk clock.Clock, every time.Duration, status func() []service.RoleStatus) ([]service.RoleStatus, error) {
	t := clk.NewTimer(every)
	defer t.Stop()
	for {
		if roles := status(); !Pending(roles) {
			return roles, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C():
			t.Reset(every)
		}
	}
}

// Reload is the outcome of one load of the config file.
type Reload struct {
	Time  time.Time `json:"time"`
	OK    bool      `json:"ok"`
	Why   string    `json:"why"` // "start", "SIGHUP", "file changed"
	Error string    `json:"error,omitempty"`
}

// maxReloadError bounds the error text a Reload keeps.
const maxReloadError = 2048

// Reloads remembers the last config load. The zero value has none; it is
// safe for concurrent use.
type Reloads struct{ last atomic.Pointer[Reload] }

// Record notes a load at now for why; err nil means it was applied.
func (r *Reloads) Record(now time.Time, why string, err error) {
	l := &Reload{Time: now.UTC().Truncate(time.Second), OK: err == nil, Why: why}
	if err != nil {
		l.Error = err.Error()
		if len(l.Error) > maxReloadError {
			l.Error = l.Error[:maxReloadError] + "…"
		}
	}
	r.last.Store(l)
}

// Last returns the last load, or nil.
func (r *Reloads) Last() *Reload { return r.last.Load() }

package refusal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
)

type env struct {
	clk   *clock.Fake
	audit *logtest.Buffer
	logs  *logtest.Buffer
	rec   *refusal.Recorder
	count map[string]int
}

// start returns a Recorder over fresh buffers; configured roles are "reader".
func start(t *testing.T) *env {
	e := &env{clk: clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), audit: new(logtest.Buffer), count: map[string]int{}}
	log, logs := logtest.New(t)
	e.logs = logs
	e.rec = refusal.New(refusal.Options{
		Audit: audit.New(e.audit, e.clk), Log: log, Clock: e.clk,
		Known: func(r string) bool { return r == "reader" },
		Count: func(listener, code string) { e.count[listener+" "+code]++ },
	})
	return e
}

var bob = peer.Identity{Known: true, UID: 4343, GID: 4343, PID: 12, Exe: "/usr/bin/flood", Via: "socket"}

func denial(id peer.Identity, role, reason string) audit.Event {
	return audit.Event{Kind: audit.KindDeny, Role: role, Caller: id, Path: id.Via, Result: "AccessDenied: " + reason}
}

func refused(id peer.Identity, role string) refusal.Refusal {
	return refusal.Refusal{Caller: id, Role: role, Status: 403, Code: "AccessDenied", Err: errors.New("role is not available")}
}

// lines decodes the JSON lines of b.
func lines(t *testing.T, b *logtest.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("line %q: %v", ln, err)
		}
		out = append(out, m)
	}
	return out
}

func TestFirstInFullThenOneSummary(t *testing.T) {
	e := start(t)
	for i := range 1000 {
		id := bob
		id.PID = int32(100 + i) // many processes of one user are one caller
		e.rec.Audit(denial(id, "reader", "uid 4343 not in allow.users/uids"))
		e.rec.Log(refused(id, "reader"))
	}
	if a, l := lines(t, e.audit), lines(t, e.logs); len(a) != 1 || len(l) != 1 {
		t.Fatalf("before the interval ends: %d audit and %d log lines, want the first of each", len(a), len(l))
	}
	if a := lines(t, e.audit)[0]; a["caller"].(map[string]any)["pid"] != 100.0 || a["count"] != nil {
		t.Errorf("first audit line is not the first refusal in full: %v", a)
	}
	e.clk.Advance(refusal.Interval)
	e.rec.Flush()
	a, l := lines(t, e.audit), lines(t, e.logs)
	if len(a) != 2 || len(l) != 2 {
		t.Fatalf("after the interval: %d audit and %d log lines, want 2 each:\n%s\n%s", len(a), len(l), e.audit, e.logs)
	}
	want := map[string]any{"event": "deny", "role": "reader", "path": "socket", "result": "AccessDenied: uid 4343 not in allow.users/uids",
		"count": 999.0, "since": "2030-01-01T00:00:00.000Z", "caller": map[string]any{"identified": true, "uid": 4343.0}}
	for k, v := range want {
		if fmt.Sprint(a[1][k]) != fmt.Sprint(v) {
			t.Errorf("summary %s = %v, want %v", k, a[1][k], v)
		}
	}
	if l[1]["msg"] != "request refused repeatedly" || l[1]["count"] != 999.0 || l[1]["caller"] != "uid=4343" || l[1]["code"] != "AccessDenied" {
		t.Errorf("log summary = %v", l[1])
	}
	if e.count["socket AccessDenied"] != 1000 {
		t.Errorf("Count saw %d refusals, want every one of 1000", e.count["socket AccessDenied"])
	}
	// A quiet interval forgets the group: the next refusal is written in full.
	e.clk.Advance(refusal.Interval)
	e.rec.Flush()
	e.rec.Audit(denial(bob, "reader", "uid 4343 not in allow.users/uids"))
	if a := lines(t, e.audit); len(a) != 3 || a[2]["count"] != nil {
		t.Errorf("after a quiet interval: %d lines, last %v; want a third line in full", len(a), a[len(a)-1])
	}
}

// TestGroups: each of caller uid, role, reason and listener makes its own
// group.
func TestGroups(t *testing.T) {
	e := start(t)
	alice := peer.Identity{Known: true, UID: 4242, Via: "socket"}
	tcp := bob
	tcp.Via = "tcp 127.0.0.1:8100"
	for range 3 {
		e.rec.Audit(denial(bob, "reader", "r1"))
		e.rec.Audit(denial(alice, "reader", "r1"))
		e.rec.Audit(denial(bob, "reader", "r2"))
		e.rec.Audit(denial(tcp, "reader", "r1"))
		e.rec.Audit(denial(peer.Identity{Via: "socket"}, "reader", "r1"))
	}
	if n := len(lines(t, e.audit)); n != 5 {
		t.Errorf("%d first lines, want 5 groups:\n%s", n, e.audit)
	}
	e.rec.Flush()
	if n := len(lines(t, e.audit)); n != 10 {
		t.Errorf("%d lines after the summaries, want 10", n)
	}
}

// TestCallerChosenNames: names and reasons a caller controls (the role it
// asks for, its executable's path) cannot multiply the lines.
func TestCallerChosenNames(t *testing.T) {
	e := start(t)
	for i := range 10000 {
		e.rec.Audit(denial(bob, fmt.Sprintf("probe-%d-%s", i, strings.Repeat("x", 900)), "no such role"))
		e.rec.Log(refused(bob, fmt.Sprintf("probe-%d", i)))
	}
	e.rec.Flush()
	a := lines(t, e.audit)
	if len(a) != 2 || a[1]["role"] != refusal.Unconfigured || a[1]["count"] != 9999.0 {
		t.Errorf("10,000 unconfigured names: %d audit lines (want 2), summary %v", len(a), a[len(a)-1])
	}
	e = start(t)
	for i := range 10000 {
		id := bob
		id.Exe = fmt.Sprintf("/tmp/copy-%d", i)
		e.rec.Audit(denial(id, "reader", fmt.Sprintf("executable %q not in allow.exe", id.Exe)))
	}
	e.rec.Flush()
	if n := len(lines(t, e.audit)); n > 2*17 {
		t.Errorf("10,000 executables: %d audit lines, want at most %d", n, 2*17)
	}
	e = start(t)
	for uid := range uint32(10000) {
		e.rec.Audit(denial(peer.Identity{Known: true, UID: 100000 + uid, Via: "socket"}, "reader", "r"))
	}
	e.rec.Flush()
	if n := len(lines(t, e.audit)); n > 4096+2 {
		t.Errorf("10,000 uids: %d audit lines, want at most %d", n, 4096+2)
	}
}

func TestRunWritesSummaries(t *testing.T) {
	e := start(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.rec.Run(ctx) }()
	waitFor(t, func() bool { return e.clk.Timers() == 1 })
	for range 5 {
		e.rec.Limited(bob)
	}
	e.clk.Advance(refusal.Interval)
	waitFor(t, func() bool { return strings.Contains(e.audit.String(), `"count":4`) })
	waitFor(t, func() bool { return e.clk.Timers() == 1 })
	for range 3 {
		e.rec.Limited(bob)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	a := lines(t, e.audit)
	if len(a) != 3 || a[0]["event"] != audit.KindLimit || a[0]["result"] != "TooManyRequests" || a[2]["count"] != 3.0 {
		t.Errorf("audit after shutdown:\n%s", e.audit)
	}
	if l := lines(t, e.logs); len(l) != 3 || l[2]["count"] != 3.0 || l[0]["status"] != 429.0 {
		t.Errorf("log after shutdown:\n%s", e.logs)
	}
}

func TestNil(t *testing.T) {
	var r *refusal.Recorder
	r.Audit(denial(bob, "reader", "x"))
	r.Log(refused(bob, "reader"))
	r.Limited(bob)
	r.Flush()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

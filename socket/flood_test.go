package socket_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// guarded is a daemon core whose role "reader" is for a uid no test runs
// as, so that every request for it is denied, with its audit log, its
// operational log and its refusal recorder running on the fake clock.
type guarded struct {
	*testenv.Env
	audit *logtest.Buffer
	logs  *logtest.Buffer
	log   *slog.Logger
	al    *audit.Logger
	rec   *refusal.Recorder
}

func newGuarded(t *testing.T, w interface{ Write([]byte) (int, error) }) *guarded {
	g := &guarded{Env: testenv.New(t, testenv.Options{}, "reader", "open"), audit: new(logtest.Buffer)}
	if w == nil {
		w = g.audit
	}
	roles := testenv.Roles("reader", "open")
	rule, err := access.Compile(config.Allow{UIDs: []uint32{4242424}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles[0].Allow = rule
	g.Service.Apply(context.Background(), roles)
	log, logs := logtest.New(t)
	g.log, g.logs = log, logs
	g.al = audit.New(w, g.Clock)
	g.rec = refusal.New(refusal.Options{Audit: g.al, Log: log, Clock: g.Clock, Known: func(r string) bool { _, ok := g.Service.Lookup(r); return ok }})
	g.Service.SetAudit(g.al, g.rec)
	return g
}

// serve serves the socket API with o on a fresh socket, with the refusal
// recorder running, until the test ends or stop is called, and returns a
// client.
func (g *guarded) serve(t *testing.T, o socket.Options) (c *http.Client, stop func()) {
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	o.Service, o.Refusals = g.Service, g.rec
	srv := socket.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx, ln) }()
	go func() { done <- g.rec.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			for range 2 {
				if err := <-done; err != nil {
					t.Errorf("Serve or Run = %v", err)
				}
			}
		})
	}
	t.Cleanup(stop)
	return testenv.UnixClient(path), stop
}

// TestFloodBoundedLogs sends 10,000 denied requests over the socket in 10 s
// of fake time, half of them over the rate limit. The audit and operational
// logs together grow by under 1 MB, and their lines still account for
// every refusal: the first of each group in full, the rest as counts.
func TestFloodBoundedLogs(t *testing.T) {
	g := newGuarded(t, nil)
	lim := ratelimit.New(ratelimit.Options{Rate: 500, Burst: 500, Clock: g.Clock, OnLimited: g.rec.Limited})
	c, stop := g.serve(t, socket.Options{Limit: lim, Log: g.log})
	const n, workers = 10000, 8
	var sent atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for sent.Add(1) <= n {
				status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/reader", nil)
				if status != 403 && status != 429 || !json.Valid(body) {
					t.Errorf("flood request: %d %s", status, body)
				}
				mu.Lock()
				if statuses[status]++; (statuses[403]+statuses[429])%1000 == 0 {
					g.Clock.Advance(time.Second) // 1,000 requests a second
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stop() // Run writes the pending summaries as it returns
	size := len(g.audit.String()) + len(g.logs.String())
	t.Logf("%d denied and %d rate-limited requests: %d bytes of audit and log", statuses[403], statuses[429], size)
	if statuses[403]+statuses[429] != n || statuses[403] == 0 || statuses[429] == 0 {
		t.Errorf("statuses %v, want %d refusals, denials and 429s both", statuses, n)
	}
	if size >= 1<<20 {
		t.Errorf("10,000 refusals wrote %d bytes of audit and log, want under 1 MB", size)
	}
	if got := tally(t, g.audit.String(), "event", "deny"); got != statuses[403] {
		t.Errorf("audit accounts for %d denials, want %d", got, statuses[403])
	}
	if got := tally(t, g.audit.String(), "event", "limit"); got != statuses[429] {
		t.Errorf("audit accounts for %d rate-limited requests, want %d", got, statuses[429])
	}
	if got := tally(t, g.logs.String(), "code", "AccessDenied"); got != statuses[403] {
		t.Errorf("log accounts for %d denials, want %d", got, statuses[403])
	}
	if got := tally(t, g.logs.String(), "code", "TooManyRequests"); got != statuses[429] {
		t.Errorf("log accounts for %d rate-limited requests, want %d", got, statuses[429])
	}
}

// tally sums the refusals the JSON lines of text with key = value stand
// for: 1 for a line in full, its count for a summary.
func tally(t *testing.T, text, key, value string) int {
	t.Helper()
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(text)); sc.Scan(); {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if m[key] != value {
			continue
		}
		if c, ok := m["count"].(float64); ok {
			n += int(c)
		} else {
			n++
		}
	}
	return n
}

func TestRateLimitAnswer(t *testing.T) {
	g := newGuarded(t, nil)
	c, _ := g.serve(t, socket.Options{Limit: ratelimit.New(ratelimit.Options{Rate: 1, Burst: 2, Clock: g.Clock, OnLimited: g.rec.Limited})})
	for range 2 {
		if status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/open", nil); status != 200 {
			t.Fatalf("within the burst: %d %s", status, body)
		}
	}
	status, h, body := do(t, c, "GET", "http://localhost/healthz", nil)
	if status != 429 || !strings.Contains(string(body), `"Code":"TooManyRequests"`) || h.Get("Retry-After") != "1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("over the burst: %d %v %s, want a JSON 429 TooManyRequests with Retry-After", status, h, body)
	}
	g.Clock.Advance(time.Second)
	if status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/open", nil); status != 200 {
		t.Errorf("a second later: %d %s", status, body)
	}
}

// TestAuditFailed: while the audit log cannot be written, the socket API
// refuses credentials with 503 AuditFailed and /v1/roles says so.
func TestAuditFailed(t *testing.T) {
	var disk logtest.Disk
	g := newGuarded(t, &disk)
	c, _ := g.serve(t, socket.Options{})
	roles := func() socket.Roles {
		_, _, body := do(t, c, "GET", "http://localhost/v1/roles", nil)
		var r socket.Roles
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("/v1/roles: %v: %s", err, body)
		}
		return r
	}
	if r := roles(); r.Audit != "ok" {
		t.Errorf("/v1/roles audit = %q, want ok", r.Audit)
	}
	disk.SetFull(true)
	status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/open", nil)
	if status != 503 || !strings.Contains(string(body), `"Code":"AuditFailed"`) || strings.Contains(string(body), "AccessKeyId") {
		t.Errorf("with the disk full: %d %s, want 503 AuditFailed and no credentials", status, body)
	}
	if r := roles(); r.Audit != "failing" {
		t.Errorf("/v1/roles audit = %q, want failing", r.Audit)
	}
	disk.SetFull(false)
	if status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/open", nil); status != 200 {
		t.Errorf("with room again: %d %s", status, body)
	}
	if r := roles(); r.Audit != "ok" {
		t.Errorf("/v1/roles audit after recovery = %q", r.Audit)
	}
	logtest.NoSecrets(t, "audit log", disk.String(), g.Secrets()...)
}

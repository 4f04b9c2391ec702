package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/testenv"
)

var ossdBin string

func TestMain(m *testing.M) {
	// The matrix re-executes its own binary, this test binary here, as the
	// limit server.
	if len(os.Args) > 1 && os.Args[1] == limitServerCmd {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "ossd-bench-test-")
	if err != nil {
		panic(err)
	}
	if ossdBin, err = testenv.BuildOssd(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// leaks reports what in out looks like a secret: a security token, a
// secret's JSON key, or a credentials-URI token.
func leaks(out string) []string {
	var found []string
	for _, re := range []string{`CAIS[A-Za-z0-9+/]{20}`, `AccessKeySecret`, `SecurityToken`, `/v1/credentials/[A-Za-z0-9_-]{40,}`} {
		if m := regexp.MustCompile(re).FindString(out); m != "" {
			found = append(found, m)
		}
	}
	return found
}

// TestSmoke runs the whole matrix briefly against ossd serve --dev: every
// target, ossd and the limit server, both answering without errors.
func TestSmoke(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--ossd", ossdBin, "--duration", "300ms", "--warmup", "100ms", "--rounds", "1", "--concurrency", "2", "--json"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench: %v\nstderr:\n%s", err, &stderr)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not the JSON report: %v\n%s", err, &stdout)
	}
	if len(rep.Skipped) != 0 {
		t.Errorf("skipped targets: %v", rep.Skipped)
	}
	var names []string
	for _, c := range rep.Comparisons {
		names = append(names, c.Target)
		if c.Clients != 2 || c.Rounds != 1 || c.Ossd.Ops == 0 || c.Limit.Ops == 0 || c.OssdErrors+c.LimitErrors != 0 {
			t.Errorf("%s: %+v; want operations on both servers and no errors (ossd: %s; limit: %s)", c.Target, c, c.Ossd.FirstError, c.Limit.FirstError)
		}
		if c.ThroughputRatio <= 0 || c.P99Ratio <= 0 {
			t.Errorf("%s: ratios %v, %v", c.Target, c.ThroughputRatio, c.P99Ratio)
		}
	}
	if got := strings.Join(names, ","); got != strings.Join(allTargets(), ",") {
		t.Errorf("targets measured: %s, want %s", got, strings.Join(allTargets(), ","))
	}
	if rep.OssdRSSKiB <= 0 || rep.Machine.CPUs <= 0 {
		t.Errorf("report lacks the RSS or the machine: %+v", rep)
	}
	if l := leaks(stdout.String() + stderr.String()); l != nil {
		t.Errorf("output holds secrets: %q", l)
	}
}

// TestSmokeTable is the default output: the table and the aims.
func TestSmokeTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--ossd", ossdBin, "--duration", "200ms", "--warmup", "50ms", "--rounds", "2", "--concurrency", "4", "--targets", "socket"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench: %v\nstderr:\n%s", err, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{"machine: ", "\nsocket  4 ", "ratio", "aims:", "socket, 4 clients", "socket, 64 clients"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(stderr.String(), "round "); n != 4 {
		t.Errorf("%d runs reported, want 2 rounds x 2 servers:\n%s", n, &stderr)
	}
}

// TestAgainstRunningDaemon uses --socket: the daemon is someone else's.
func TestAgainstRunningDaemon(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := testenv.StartDaemon(t, ossdBin, sock, "serve", "--dev", "--socket", sock)
	var stdout, stderr bytes.Buffer
	args := []string{"--socket", sock, "--duration", "200ms", "--warmup", "50ms", "--rounds", "1", "--concurrency", "2", "--json"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench: %v\nstderr:\n%s", err, &stderr)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	// No --metadata: that target is skipped, with the reason; the URI is
	// found through the socket.
	if _, ok := rep.Skipped["metadata"]; !ok || len(rep.Comparisons) != 2 {
		t.Errorf("skipped %v, measured %d targets; want metadata skipped, socket and uri measured", rep.Skipped, len(rep.Comparisons))
	}
	if exited, _ := d.Exited(); exited {
		t.Error("ossd-bench stopped a daemon it did not start")
	}
}

func TestScale(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"scale", "--ossd", ossdBin, "--only", "roles", "--roles", "30", "--ready-roles", "10", "--repeat", "1", "--settle", "0s", "--json"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench scale: %v\nstderr:\n%s", err, &stderr)
	}
	var rep struct{ Results []scaleResult }
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 {
		t.Fatalf("%d scenarios, want 4", len(rep.Results))
	}
	for _, r := range rep.Results {
		if len(r.Ready) != 1 || r.Ready[0] <= 0 || r.RSSKiB[0] <= 0 || r.STSCalls[0] != r.Roles || r.MaxCallsPerSecond < 1 {
			t.Errorf("%s: %+v; want a time, an RSS, one STS call per role", r.Name, r)
		}
	}
}

// TestScaleSessions fills a few on-demand sessions in the real daemon (a
// release build: max_qps 100) and checks the figures; and that the same
// build refuses the benchmark's max_qps above 100, which only a build with
// -tags ossd_bench accepts.
func TestScaleSessions(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"scale", "--ossd", ossdBin, "--only", "sessions", "--sessions", "40", "--session-qps", "100", "--settle", "0s", "--json"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench scale: %v\nstderr:\n%s", err, &stderr)
	}
	var rep struct{ Sessions []sessionResult }
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Sessions) != 1 {
		t.Fatalf("%d session results, want 1", len(rep.Sessions))
	}
	r := rep.Sessions[0]
	if r.Sessions != 40 || r.STSCalls != 40 || r.RSSKiB <= 0 || r.BaseKiB <= 0 || r.Heap.InuseBytes <= 0 || r.Heap.NextGCBytes <= 0 || r.CPU <= 0 {
		t.Errorf("result %+v; want 40 STS calls, RSS before and after, heap figures and CPU time", r)
	}
	stderr.Reset()
	args = []string{"scale", "--ossd", ossdBin, "--only", "sessions", "--sessions", "5", "--session-qps", "200", "--settle", "0s"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "sts.max_qps") {
		t.Errorf("max_qps 200 with a release build: %v; want the daemon's refusal naming sts.max_qps", err)
	}
}

// TestHelper runs a few rounds of the helper benchmark against ossd serve
// --dev: every command's output is checked by the harness, and each gets
// its figures and its ratio to the floor.
func TestHelper(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"helper", "--ossd", ossdBin, "--runs", "3", "--warmup", "1", "--json"}
	if err := run(t.Context(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ossd-bench helper: %v\nstderr:\n%s", err, &stderr)
	}
	var rep struct{ Results []helperResult }
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	names := []string{"floor", "ossd-credential-process", "ossd credential-process", "/bin/true"}
	if len(rep.Results) != len(names) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(names))
	}
	for i, r := range rep.Results {
		if r.Name != names[i] || len(r.Wall) != 3 || r.Median <= 0 || r.Ratio <= 0 || (i == 0 && r.Ratio != 1) {
			t.Errorf("result %d = %s, %d samples, median %v, ratio %v; want %s with 3 samples", i, r.Name, len(r.Wall), r.Median, r.Ratio, names[i])
		}
	}
	if leaked := leaks(stdout.String() + stderr.String()); len(leaked) > 0 {
		t.Errorf("output holds secrets: %v", leaked)
	}
}

func TestOptions(t *testing.T) {
	bad := [][]string{
		{"--concurrency", "0"},
		{"--concurrency", "4,x"},
		{"--targets", "socket,nope"},
		{"--rounds", "0"},
		{"--duration", "0s"},
		{"--tcp-rate", "-1"},
		{"--metadata", "127.0.0.1:1"},
		{"extra"},
	}
	for _, args := range bad {
		var u usageError
		if _, err := parseOptions(args, new(bytes.Buffer)); !errors.As(err, &u) {
			t.Errorf("parseOptions(%q) = %v, want a usage error", args, err)
		}
	}
	o, err := parseOptions([]string{"--duration", "10s", "--concurrency", "8, 2", "--targets", "uri,socket,uri"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if o.warmup != time.Second || fmt.Sprint(o.concurrency) != "[8 2]" || fmt.Sprint(o.targets) != "[uri socket]" {
		t.Errorf("options = %+v", o)
	}
}

func TestMetadataAddr(t *testing.T) {
	banner := `
  socket:   /tmp/x/ossd.sock
  metadata: http://127.0.0.1:8100 (ECS metadata compatible, role demo)
            curl http://127.0.0.1:8100/latest/meta-data/ram/security-credentials/demo
  metadata: http://127.0.0.1:40123 (ECS metadata compatible, role other)
`
	for role, want := range map[string]string{"demo": "127.0.0.1:8100", "other": "127.0.0.1:40123", "none": ""} {
		if got := metadataAddr(banner, role); got != want {
			t.Errorf("metadataAddr(%s) = %q, want %q", role, got, want)
		}
	}
}

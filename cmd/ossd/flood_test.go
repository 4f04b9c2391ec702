package main_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// clientFlood is the test binary as a busy client: n GETs of path on the
// socket, from 4 keep-alive connections at once, as fast as the daemon
// answers; it prints one "status count" line per status seen.
func clientFlood(sock, path, n string) int {
	total, err := strconv.Atoi(n)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	c := testenv.UnixClient(sock)
	var (
		sent   atomic.Int64
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for sent.Add(1) <= int64(total) {
				status := "error"
				if resp, err := c.Get("http://localhost" + path); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = strconv.Itoa(resp.StatusCode)
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s %d\n", k, counts[k])
	}
	return 0
}

// floodAs starts the test binary as uid, sending n requests for path.
func floodAs(t *testing.T, client string, uid uint32, sock, path string, n int) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(client)
	cmd.Env = append(os.Environ(), "OSSD_TEST_FLOOD="+strconv.Itoa(n), "OSSD_TEST_FLOOD_SOCKET="+sock, "OSSD_TEST_FLOOD_PATH="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out := new(strings.Builder)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// statusCounts parses clientFlood's output.
func statusCounts(t *testing.T, out string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, " ")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Fatalf("client output %q", out)
		}
		m[k] = n
	}
	return m
}

// TestFloodAcrossUsers is the flood of the adversarial review: uid 4343
// sends 10,000 requests for a role it may not have, over the socket, as
// fast as ossd answers, while uid 4242, who may have it, asks 300 times.
// The audit log and the daemon's log together must grow by under 1 MB
// (the review measured 49 MB and 39 MB in 20 s), and every request of
// uid 4242 must be served: the flood spends only 4343's own budget.
func TestFloodAcrossUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the flooding and the allowed client as two other users")
	}
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	dir := testenv.PublicDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	path := daemonConfig(t, endpoint, fmt.Sprintf("[server]\nsocket_mode = \"0666\"\n[audit]\nfile = %q\n", auditPath),
		"reader\n[role.allow]\nuids = [4242]\n")
	d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	client := publicCopy(t, os.Args[0], dir)
	before := fileSize(t, auditPath) + len(d.Stderr.String())

	flood, floodOut := floodAs(t, client, 4343, sock, "/v1/credentials/reader", 10000)
	allowed, allowedOut := floodAs(t, client, 4242, sock, "/v1/credentials/reader", 300)
	if err := flood.Wait(); err != nil {
		t.Fatalf("flooding client: %v\n%s", err, floodOut)
	}
	if err := allowed.Wait(); err != nil {
		t.Fatalf("allowed client: %v\n%s", err, allowedOut)
	}
	d.Stop(t) // writes the pending summaries
	grew := fileSize(t, auditPath) + len(d.Stderr.String()) - before
	fl, al := statusCounts(t, floodOut.String()), statusCounts(t, allowedOut.String())
	t.Logf("uid 4343: %v; uid 4242: %v; audit and log grew %d bytes", fl, al, grew)
	if fl["403"]+fl["429"] != 10000 {
		t.Errorf("flooding uid got %v, want 10,000 refusals (403 or 429)", fl)
	}
	if al["200"] != 300 {
		t.Errorf("allowed uid got %v during the flood, want all 300 served", al)
	}
	if grew >= 1<<20 {
		t.Errorf("10,000 refusals grew the audit and operational logs by %d bytes, want under 1 MB", grew)
	}
	b, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"caller":{"identified":true,"uid":4343}`) || !strings.Contains(string(b), `"count":`) {
		t.Errorf("audit log has no summary of uid 4343's refusals:\n%.2000s", b)
	}
}

func fileSize(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Size())
}

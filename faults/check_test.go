package faults_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/refresher"
)

// tally counts what callers saw in one scenario.
type tally struct {
	mu     sync.Mutex // guards counts
	counts map[string]int
}

func (t *tally) add(outcome string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[outcome]++
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.counts))
	total := 0
	for k, n := range t.counts {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, t.counts[k])
	}
	return fmt.Sprintf("%d requests: %s", total, strings.Join(parts, " "))
}

func (t *tally) get(k string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[k]
}

// body is the SPEC §1 credentials body, or an error body.
type body struct {
	AccessKeyId, AccessKeySecret, SecurityToken string
	Expiration, LastUpdated, Code, Message      string
}

// check performs one GET and judges the answer at now: complete
// credentials with more than the hard minimum left, or a JSON error with a
// stable code. Anything else fails the test.
func check(t testing.TB, c *http.Client, url string, now func() time.Time, seen *tally) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Errorf("request unanswered: %v", err)
		seen.add("unanswered")
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	var b body
	if err != nil || json.Unmarshal(raw, &b) != nil {
		t.Errorf("status %d with unreadable body %q (%v)", resp.StatusCode, raw, err)
		seen.add("garbled")
		return
	}
	if resp.StatusCode != http.StatusOK {
		if b.Code == "" || b.Message == "" || b.AccessKeySecret != "" || b.SecurityToken != "" {
			t.Errorf("status %d without a clean JSON error: %q", resp.StatusCode, raw)
		}
		seen.add(fmt.Sprintf("%d:%s", resp.StatusCode, b.Code))
		return
	}
	exp, err := time.Parse(ossd.TimeLayout, b.Expiration)
	switch {
	case b.Code != "Success" || b.AccessKeyId == "" || b.AccessKeySecret == "" || b.SecurityToken == "" || err != nil:
		t.Errorf("incomplete credentials: %q", raw)
		seen.add("incomplete")
	case exp.Sub(now()) <= refresher.DefaultHardMin:
		t.Errorf("credentials with %v left handed out", exp.Sub(now()))
		seen.add("expiring")
	default:
		seen.add("ok")
	}
}

func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

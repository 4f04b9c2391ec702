package audit_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
)

func TestLogLine(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC))
	var buf logtest.Buffer
	l := audit.New(&buf, clk)
	err := l.Log(audit.Event{Kind: audit.KindPresign, Role: "reader", Session: "ossd-reader", AccessKeyID: "STS.x",
		Caller: peer.Identity{Known: true, UID: 1000, GID: 100, PID: 42, Exe: "/usr/bin/app", ExeFile: peer.FileID{Dev: unix.Mkdev(259, 1), Ino: 1234}, Cgroup: "/app.slice", NS: "mnt,user", Via: "socket"}, Path: "socket",
		Method: "GET", Bucket: "b-1", Key: "a \"b\"\n/中", Expires: 90 * time.Minute, Expiry: time.Date(2030, 1, 2, 4, 34, 5, 0, time.FixedZone("x", 3600)), Result: audit.ResultOK})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"time": "2030-01-02T03:04:05.006Z", "event": "presign", "role": "reader", "session": "ossd-reader",
		"access_key_id": "STS.x", "path": "socket",
		"caller": map[string]any{"identified": true, "uid": 1000.0, "gid": 100.0, "pid": 42.0, "exe": "/usr/bin/app", "exe_file": "259:1:1234", "cgroup": "/app.slice", "ns": "mnt,user"}, "method": "GET", "bucket": "b-1", "key": "a \"b\"\n/中",
		"expires_seconds": 5400.0, "expiry": "2030-01-02T03:34:05Z", "result": "ok"}
	var got map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil || !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("line %q: %v", buf.String(), err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("line = %v\nwant   %v", got, want)
	}
}

func TestLogRefusalAndClip(t *testing.T) {
	var buf logtest.Buffer
	l := audit.New(&buf, clock.NewFake(time.Unix(0, 0)))
	long := strings.Repeat("é", 2000) // 4000 bytes
	if err := l.Log(audit.Event{Kind: audit.KindPresign, Role: "r", Key: long, Result: "KeyNotAllowed"}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
		t.Fatal(err)
	}
	key, _ := got["key"].(string)
	if len(key) > 1024+len("…") || !strings.HasSuffix(key, "…") || strings.ContainsRune(key, '\uFFFD') {
		t.Errorf("clipped key is %d bytes: %.20q...", len(key), key)
	}
	if _, ok := got["expiry"]; ok || got["result"] != "KeyNotAllowed" {
		t.Errorf("refusal line %v: want no expiry and the code", got)
	}
}

// TestConcurrentLines writes from many goroutines: every line must be whole.
func TestConcurrentLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, closer, err := audit.Open(path, nil, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if err := l.Log(audit.Event{Kind: audit.KindPresign, Role: "r", Key: strings.Repeat("k", 100*(g+1)), Expires: time.Duration(i) * time.Second, Result: "ok"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", fi.Mode().Perm())
	}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not JSON: %.80q", n, sc.Text())
		}
	}
	if n != 1600 {
		t.Errorf("%d lines, want 1600", n)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, _, err := audit.Open(filepath.Join(t.TempDir(), "missing", "audit.log"), nil, nil); err == nil || !strings.Contains(err.Error(), "open audit log") {
		t.Errorf("Open in a missing directory: err = %v", err)
	}
	var buf logtest.Buffer
	l, closer, err := audit.Open("", &buf, nil)
	if err != nil || closer.Close() != nil {
		t.Fatalf("Open(\"\") = %v", err)
	}
	if err := l.Log(audit.Event{Kind: "k", Result: "ok"}); err != nil || !strings.Contains(buf.String(), `"event":"k"`) {
		t.Errorf("stderr logger wrote %q, %v", buf.String(), err)
	}
}

// TestNoCredentialFields guards the Event type: it must have no field that
// could carry a secret, a token or a signature.
func TestNoCredentialFields(t *testing.T) {
	typ := reflect.TypeFor[audit.Event]()
	for i := range typ.NumField() {
		name := strings.ToLower(typ.Field(i).Name)
		for _, bad := range []string{"secret", "token", "signature", "url", "password"} {
			if strings.Contains(name, bad) {
				t.Errorf("Event has a field %s", typ.Field(i).Name)
			}
		}
	}
}

package audit_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
)

// switchWriter fails while its fail flag is set, writing half of what it
// is given first when half is set, as a disk that fills up mid-line does.
type switchWriter struct {
	mu         sync.Mutex // guards all
	fail, half bool
	buf        strings.Builder
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.fail {
		return w.buf.Write(p)
	}
	if w.half {
		n, _ := w.buf.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return 0, syscall.ENOSPC
}

func (w *switchWriter) set(fail, half bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fail, w.half = fail, half
}

func (w *switchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var issue = audit.Event{Kind: audit.KindIssue, Role: "reader", AccessKeyID: "STS.x", Result: audit.ResultOK}

func TestGateRefusesWhileFailing(t *testing.T) {
	var w switchWriter
	log, logs := logtest.New(t)
	l := audit.New(&w, clock.NewFake(time.Unix(0, 0)))
	l.SetPolicy(audit.Policy{Log: log})
	if err := l.Gate(issue); err != nil || l.State().String() != "ok" {
		t.Fatalf("Gate on a working log = %v, state %v", err, l.State())
	}
	w.set(true, true)
	for range 3 {
		if err := l.Gate(issue); !errors.Is(err, audit.ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Gate on a full disk = %v, want ErrFailed wrapping ENOSPC", err)
		}
	}
	if st := l.State(); st.OK || st.Failures != 3 || st.String() != "failing" {
		t.Errorf("state while failing = %+v", st)
	}
	w.set(false, false)
	if err := l.Gate(issue); err != nil || !l.State().OK {
		t.Errorf("Gate after the disk has room = %v, state %+v", err, l.State())
	}
	// Only the torn lines are lost: every line that was written is whole.
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	whole := 0
	for _, ln := range lines {
		if strings.HasPrefix(ln, "{") && strings.HasSuffix(ln, "}") {
			whole++
		}
	}
	if whole != 2 || !strings.HasSuffix(lines[len(lines)-1], "}") {
		t.Errorf("%d whole lines, want the 2 written:\n%s", whole, w.String())
	}
	// One ERROR when it broke and one INFO when it mended, not one per line.
	if n := strings.Count(logs.String(), `"level":"ERROR"`); n != 1 || !strings.Contains(logs.String(), "audit log written again") {
		t.Errorf("operational log has %d ERROR lines, want 1, and a recovery line:\n%s", n, logs.String())
	}
}

func TestGateOptional(t *testing.T) {
	var w switchWriter
	log, logs := logtest.New(t)
	l := audit.New(&w, nil)
	l.SetPolicy(audit.Policy{Optional: true, Log: log})
	w.set(true, false)
	if err := l.Gate(issue); err != nil {
		t.Errorf("Gate with an optional log = %v, want nil", err)
	}
	if err := l.Log(issue); !errors.Is(err, audit.ErrFailed) {
		t.Errorf("Log still reports the failure: %v", err)
	}
	if st := l.State(); st.OK || st.Failures != 2 {
		t.Errorf("state = %+v, want failing with 2 failures", st)
	}
	if !strings.Contains(logs.String(), "still issued") {
		t.Errorf("no ERROR saying issuance goes on:\n%s", logs.String())
	}
}

// TestGateDevFull writes to /dev/full, whose every write fails with ENOSPC
// as a full disk's does.
func TestGateDevFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	l := audit.New(f, nil)
	if err := l.Gate(issue); !errors.Is(err, audit.ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Gate to /dev/full = %v, want ErrFailed wrapping ENOSPC", err)
	}
	if l.State().OK {
		t.Error("state ok after writing to /dev/full")
	}
}

func TestSummaryLine(t *testing.T) {
	var buf logtest.Buffer
	l := audit.New(&buf, clock.NewFake(time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC)))
	err := l.Log(audit.Event{Kind: audit.KindDeny, Role: "reader", Path: "socket", Result: "AccessDenied: uid 4343 not in allow.users/uids",
		Caller: peer.Identity{Known: true, UID: 4343, GID: 4343, PID: 77, Exe: "/tmp/x"}, Count: 9999, Since: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2030-01-01T00:00:10.000Z","event":"deny","role":"reader","path":"socket","caller":{"identified":true,"uid":4343},` +
		`"result":"AccessDenied: uid 4343 not in allow.users/uids","count":9999,"since":"2030-01-01T00:00:00.000Z"}` + "\n"
	if buf.String() != want {
		t.Errorf("summary line\n%s\nwant\n%s", buf.String(), want)
	}
}

package systemd_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/systemd"
)

// knobs are what the test changes while Run runs.
type knobs struct {
	mu     sync.Mutex // guards status, fail and checks
	status string
	fail   error
	checks int
}

func (k *knobs) set(status string, fail error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.status, k.fail = status, fail
}

func (k *knobs) Status() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

func (k *knobs) Check(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.checks++
	return k.fail
}

// startRun runs systemd.Run until the test ends and returns a func that
// stops it and reports what it returned.
func startRun(t *testing.T, o systemd.Options) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- systemd.Run(ctx, o) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			done <- err
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitArmed waits until Run sleeps on its timer again.
func waitArmed(t *testing.T, clk *clock.Fake) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); clk.Timers() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Run never armed its timer")
		}
	}
}

func TestRunWatchdog(t *testing.T) {
	c := notifySocket(t, false)
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	k := &knobs{status: "starting"}
	stop := startRun(t, systemd.Options{Clock: clk, Watchdog: 10 * time.Second, Status: k.Status, Check: k.Check})

	if got, want := recv(t, c), "STATUS=starting\nWATCHDOG=1"; got != want {
		t.Errorf("first tick = %q, want %q", got, want)
	}
	waitArmed(t, clk)
	clk.Advance(4 * time.Second) // before half the timeout: no tick
	nothingPending(t, c)
	clk.Advance(time.Second)
	if got, want := recv(t, c), "WATCHDOG=1"; got != want { // status unchanged: not resent
		t.Errorf("tick at 5s = %q, want %q", got, want)
	}
	waitArmed(t, clk)
	k.set("1 role: failing (reader)", errors.New("socket does not answer"))
	clk.Advance(5 * time.Second)
	if got, want := recv(t, c), "STATUS=1 role: failing (reader)"; got != want { // failed check: no ping
		t.Errorf("tick at 10s = %q, want %q", got, want)
	}
	waitArmed(t, clk)
	k.set("1 role: failing (reader)", nil)
	clk.Advance(5 * time.Second)
	if got, want := recv(t, c), "WATCHDOG=1"; got != want {
		t.Errorf("tick at 15s = %q, want %q", got, want)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v", err)
	}
	if got, want := recv(t, c), "STOPPING=1\nSTATUS=stopping"; got != want {
		t.Errorf("on stop = %q, want %q", got, want)
	}
	if k.checks != 4 {
		t.Errorf("checks = %d, want 4 (one per tick)", k.checks)
	}
}

func TestRunStatusOnly(t *testing.T) {
	c := notifySocket(t, false)
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	k := &knobs{status: "2 roles: 2 ok"}
	stop := startRun(t, systemd.Options{Clock: clk, Status: k.Status, Check: k.Check})
	if got, want := recv(t, c), "STATUS=2 roles: 2 ok"; got != want {
		t.Errorf("first tick = %q, want %q", got, want)
	}
	waitArmed(t, clk)
	k.set("2 roles: 1 ok, 1 degraded (uploader)", nil)
	clk.Advance(systemd.DefaultStatusEvery - time.Second)
	nothingPending(t, c)
	clk.Advance(time.Second)
	if got, want := recv(t, c), "STATUS=2 roles: 1 ok, 1 degraded (uploader)"; got != want {
		t.Errorf("tick at 30s = %q, want %q", got, want)
	}
	stop()
	if got := recv(t, c); got != "STOPPING=1\nSTATUS=stopping" {
		t.Errorf("on stop = %q", got)
	}
	if k.checks != 0 {
		t.Errorf("checks = %d without a watchdog, want 0", k.checks)
	}
}

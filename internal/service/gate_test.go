package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

func process(pid int32) context.Context {
	return peer.NewContext(context.Background(), peer.Identity{Known: true, UID: 1000, GID: 1000, PID: pid, Via: "socket"})
}

// TestNoIssuanceWithoutAudit: while the audit log cannot be written, no
// credentials leave that the log does not already record.
func TestNoIssuanceWithoutAudit(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	var w logtest.Disk
	l, _ := setAudit(env, &w)
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	var handed []string // every AccessKeyId a caller got
	get := func(ctx context.Context, session string) error {
		c, err := env.Service.Credentials(ctx, "reader", session)
		if err == nil {
			handed = append(handed, c.AccessKeyID)
		} else if c.AccessKeyID != "" {
			t.Errorf("credentials returned with an error: %v", err)
		}
		return err
	}
	if err := get(process(11), ""); err != nil {
		t.Fatal(err)
	}
	w.SetFull(true)
	if err := get(process(12), ""); !errors.Is(err, audit.ErrFailed) {
		t.Errorf("a new process while the disk is full: err = %v, want audit.ErrFailed", err)
	}
	if err := get(process(11), "job"); !errors.Is(err, audit.ErrFailed) {
		t.Errorf("a new session while the disk is full: err = %v, want audit.ErrFailed", err)
	}
	// Already in the log: the same token to the same process leaks nothing new.
	if err := get(process(11), ""); err != nil {
		t.Errorf("an audited issuance again: %v", err)
	}
	if got := env.Service.AuditState(); got != "failing" || l.State().Failures != 2 {
		t.Errorf("AuditState = %q with %d failures, want failing with 2", got, l.State().Failures)
	}
	w.SetFull(false)
	if err := get(process(12), ""); err != nil {
		t.Errorf("after the disk has room again: %v", err)
	}
	if got := env.Service.AuditState(); got != "ok" {
		t.Errorf("AuditState after recovery = %q", got)
	}
	log := w.String()
	for _, id := range handed {
		if !strings.Contains(log, `"access_key_id":"`+id+`"`) {
			t.Errorf("%s was handed out but is not in the audit log", id)
		}
	}
	if n := strings.Count(log, `"event":"issue"`); n != 2 {
		t.Errorf("%d issuance lines, want 2 (pid 11 and pid 12):\n%s", n, log)
	}
}

// TestNoIssuanceToDevFull audits to /dev/full, where every write fails with
// the kernel's ENOSPC.
func TestNoIssuanceToDevFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	env := testenv.New(t, testenv.Options{}, "reader")
	setAudit(env, f)
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, err := env.Service.Credentials(process(11), "reader", "")
	if !errors.Is(err, audit.ErrFailed) || !errors.Is(err, syscall.ENOSPC) || c.AccessKeyID != "" {
		t.Errorf("Credentials with the audit log on /dev/full = %q, %v; want none and ErrFailed wrapping ENOSPC", c.AccessKeyID, err)
	}
}

// TestIssuanceAuditOptional: [audit] required = false hands credentials out
// when the line cannot be written.
func TestIssuanceAuditOptional(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	w := new(logtest.Disk)
	w.SetFull(true)
	l, _ := setAudit(env, w)
	l.SetPolicy(audit.Policy{Optional: true})
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	if c, err := env.Service.Credentials(process(11), "reader", ""); err != nil || c.AccessKeyID == "" {
		t.Errorf("Credentials with an optional failing audit = %q, %v", c.AccessKeyID, err)
	}
	if env.Service.AuditState() != "failing" {
		t.Error("AuditState hides the failure")
	}
}

// TestDenialFloodAudit: 10,000 denials in 10 s from one user, varying
// process, session and role asked for, add a few lines to the audit log,
// while another user's requests are all served and audited.
func TestDenialFloodAudit(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	var w logtest.Disk
	_, rec := setAudit(env, &w)
	roles := testenv.Roles("reader")
	rule, err := access.Compile(config.Allow{UIDs: []uint32{1000}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles[0].Allow = rule
	env.Service.Apply(context.Background(), roles)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	served := 0
	for i := range 10000 {
		bob := peer.NewContext(context.Background(), peer.Identity{Known: true, UID: 4343, GID: 4343, PID: int32(5000 + i%300), Via: "socket"})
		role := "reader"
		if i%2 == 1 {
			role = fmt.Sprintf("guess-%d", i)
		}
		if _, err := env.Service.Credentials(bob, role, fmt.Sprintf("s%d", i%7)); !errors.Is(err, service.ErrDenied) {
			t.Fatalf("flooding user: err = %v, want a denial", err)
		}
		if i%100 == 0 {
			if _, err := env.Service.Credentials(process(int32(100+i/100)), "reader", ""); err == nil {
				served++
			}
		}
		if i%1000 == 999 {
			env.Clock.Advance(time.Second) // 10,000 requests over 10 s
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	log := w.String()
	if served != 100 || strings.Count(log, `"event":"issue"`) != 100 {
		t.Errorf("allowed user: %d of 100 served, %d issuance lines", served, strings.Count(log, `"event":"issue"`))
	}
	denyLines := strings.Count(log, `"event":"deny"`)
	t.Logf("10,000 denials: %d deny lines, audit log %d bytes in all", denyLines, len(log))
	if denyLines > 8 || len(log) > 1<<20 {
		t.Errorf("10,000 denials wrote %d deny lines and %d bytes, want at most 8 lines and 1 MB", denyLines, len(log))
	}
	if !strings.Contains(log, `"count":`) || !strings.Contains(log, `"role":"`+refusal.Unconfigured+`"`) {
		t.Errorf("no summary lines with counts:\n%s", log)
	}
}

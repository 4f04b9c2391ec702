package execuri_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

// TestRefusedRegistrationsGrouped: a user repeating a refused registration
// as fast as the socket lets him adds one audit line, then one summary per
// interval, not one line per attempt.
func TestRefusedRegistrationsGrouped(t *testing.T) {
	env := testenv.Guarded(t, 1000)
	buf := new(testenv.SyncBuffer)
	al := audit.New(buf, env.Clock)
	rec := refusal.New(refusal.Options{Audit: al, Clock: env.Clock})
	reg := execuri.New(execuri.Options{Prepare: env.Service.Prepare, Audit: al, Refusals: rec,
		URL: func(tok string) (string, bool) { return "http://127.0.0.1:1/v1/exec/" + tok, true }})
	for range 1000 {
		var denied *service.DeniedError
		if _, err := reg.Register(as(4242), request("guarded")); !errors.As(err, &denied) {
			t.Fatalf("Register as uid 4242 = %v, want a DeniedError", err)
		}
	}
	rec.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"result":"AccessDenied: uid 4242`) || !strings.Contains(lines[1], `"count":999`) {
		t.Errorf("1000 refused registrations wrote %d audit lines, want the first and one summary of 999:\n%s", len(lines), buf.String())
	}
}

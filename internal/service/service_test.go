package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

func TestApplyAddsChangesAndForgets(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "writer", "audit")
	ctx := context.Background()
	if errs := env.Service.Apply(ctx, testenv.Roles("reader", "writer")); len(errs) != 0 {
		t.Fatal(errs)
	}
	if calls := env.STS.Calls(); calls != 2 {
		t.Errorf("calls after start = %d, want 2", calls)
	}
	reader := env.Get(testenv.Params("reader"))

	changed := testenv.Roles("reader", "audit")
	changed[0].Params.Duration = 2 * time.Hour // a changed role is a new key
	env.Service.Apply(ctx, changed)
	if calls := env.STS.Calls(); calls != 4 {
		t.Errorf("calls after reload = %d, want 4 (changed reader, new audit)", calls)
	}
	if _, err := env.Service.Credentials(ctx, "writer", ""); !errors.Is(err, ossd.ErrUnknownRole) {
		t.Errorf("removed role: err = %v, want ErrUnknownRole", err)
	}
	if _, ok := env.Cache.Get(testenv.Params("writer").Key()); ok {
		t.Error("removed role's token still cached")
	}
	c, err := env.Service.Credentials(ctx, "reader", "")
	if err != nil || c.AccessKeyID == reader.AccessKeyID {
		t.Errorf("changed role: got %s, %v; want a token for the new parameters", c.AccessKeyID, err)
	}
	if got := env.Service.Names(); len(got) != 2 || got[0] != "audit" || got[1] != "reader" {
		t.Errorf("Names = %v", got)
	}
}

func TestSessionSuffix(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	for _, bad := range []string{"a b", "x/y", string(make([]byte, 70))} {
		if _, err := env.Service.Credentials(ctx, "reader", bad); !errors.Is(err, service.ErrBadSession) {
			t.Errorf("session %q: err = %v, want ErrBadSession", bad, err)
		}
	}
	if _, err := env.Service.Credentials(ctx, "reader", "job-1"); err != nil {
		t.Fatal(err)
	}
}

func TestStatus(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "broken")
	ctx := context.Background()
	roles := testenv.Roles("reader", "broken")
	roles[1].Params.RoleARN = "acs:ram::" + testenv.Account + ":role/missing"
	errs := env.Service.Apply(ctx, roles)
	if ossd.ErrorCode(errs["broken"]) != "EntityNotExist.Role" {
		t.Errorf("Apply errors = %v", errs)
	}
	st := env.Service.Status()
	if st[0].Name != "broken" || st[0].State != "failing" || st[0].LastError == "" {
		t.Errorf("broken = %+v", st[0])
	}
	if st[1].Name != "reader" || st[1].State != "ok" || st[1].ExpiresIn != 3600 {
		t.Errorf("reader = %+v", st[1])
	}
	env.STS.SetFault(localsts.Fault{Code: "InternalError"})
	env.Clock.Advance(50 * time.Minute) // 10 min left: below the floor
	env.Ref.RefreshDue(ctx)
	if st := env.Service.Status(); st[1].State != "degraded" || st[1].Failures == 0 || st[1].ErrorCode != "InternalError" {
		t.Errorf("reader during outage = %+v", st[1])
	}
	// 4 min left, below the 5 min hard minimum: the token is still valid
	// but is never handed out, so the role is failing, not degraded.
	env.Clock.Advance(6 * time.Minute)
	env.Ref.RefreshDue(ctx)
	if st := env.Service.Status(); st[1].State != "failing" || st[1].ExpiresIn <= 0 {
		t.Errorf("reader below the hard minimum = %+v", st[1])
	}
	if _, err := env.Service.Credentials(ctx, "reader", ""); err == nil {
		t.Error("a role reported failing handed out credentials")
	}
}

// TestInstallServesAtOnce: Install returns before any token is fetched; a
// caller asking for a role then fetches it at once, and a role removed
// between a caller's lookup and its fetch (a reload) costs no AssumeRole and
// leaves no session behind.
func TestInstallServesAtOnce(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "writer")
	ctx := context.Background()
	env.Service.Install(testenv.Roles("reader", "writer"))
	if calls := env.STS.Calls(); calls != 0 {
		t.Fatalf("Install made %d AssumeRole calls, want none before anyone asks", calls)
	}
	if st := env.Service.Status(); st[0].State != "pending" {
		t.Errorf("before the first fetch: state %q, want pending", st[0].State)
	}
	if _, err := env.Service.Credentials(ctx, "reader", ""); err != nil {
		t.Fatal(err)
	}
	if calls := env.STS.Calls(); calls != 1 {
		t.Errorf("calls = %d, want 1: the asked-for role, ahead of the other", calls)
	}
	// What a reload removing writer does while a caller holds its Role.
	env.Ref.Forget(testenv.Params("writer").Key())
	if _, err := env.Service.Credentials(ctx, "writer", ""); !errors.Is(err, ossd.ErrUnknownRole) {
		t.Errorf("removed role: err = %v, want ErrUnknownRole", err)
	}
	if calls := env.STS.Calls(); calls != 1 {
		t.Errorf("a removed role cost %d AssumeRole calls", calls-1)
	}
	if _, n := env.Cache.Len(); n != 0 {
		t.Errorf("%d orphan sessions cached for the removed role", n)
	}
}

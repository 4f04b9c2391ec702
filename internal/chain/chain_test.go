package chain_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// hubAndApp returns the role hub, assumed with the source credential, and
// app, assumed with hub's credentials.
func hubAndApp() []service.Role {
	roles := testenv.Roles("hub", "app")
	roles[1].Params.Via = &roles[0].Params
	return roles
}

// TestChildSignedByParent: the child's AssumeRole is signed with the
// parent's STS key and token, taken from the parent's cache entry.
func TestChildSignedByParent(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "hub", "app")
	ctx := context.Background()
	if errs := env.Service.Apply(ctx, hubAndApp()); len(errs) != 0 {
		t.Fatal(errs)
	}
	hub, err := env.Service.Credentials(ctx, "hub", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := env.Service.Credentials(ctx, "app", "")
	if err != nil {
		t.Fatal(err)
	}
	if n := env.STS.Calls(); n != 2 {
		t.Errorf("STS calls = %d, want 2: the child must use the parent's cached token", n)
	}
	byKey := map[string]localsts.Issued{}
	for _, is := range env.STS.Issued() {
		byKey[is.AccessKeyID] = is
	}
	if got := byKey[hub.AccessKeyID].SignedBy; got != testenv.KeyID {
		t.Errorf("hub signed by %q, want the source key", got)
	}
	if got := byKey[app.AccessKeyID]; got.SignedBy != hub.AccessKeyID || got.RoleArn != testenv.Params("app").RoleARN {
		t.Errorf("app issued for %s signed by %s, want it signed by hub's %s", got.RoleArn, got.SignedBy, hub.AccessKeyID)
	}
	for _, c := range env.STS.CallLog() {
		if c.Params.Get("RoleArn") == testenv.Params("app").RoleARN && c.Params.Get("SecurityToken") != hub.SecurityToken.Reveal() {
			t.Error("the chained call did not carry hub's SecurityToken")
		}
	}
}

// TestChildShortened: a parent token with less left than the child asks
// for cuts the child's session to what the parent has left; with less than
// 15 minutes left the child's fetch fails, naming the parent.
func TestChildShortened(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "hub", "app")
	ctx := context.Background()
	roles := hubAndApp()
	env.Service.Apply(ctx, roles)
	if got := lastDuration(env, "app"); got != "3600" {
		t.Errorf("child's first DurationSeconds = %s, want 3600: the fresh parent outlives it", got)
	}

	env.Clock.Advance(20*time.Minute + 500*time.Millisecond) // the parent has 39m59.5s left
	c, err := env.Service.Credentials(ctx, "app", "later")   // a new session of the child
	if err != nil {
		t.Fatal(err)
	}
	if got := lastDuration(env, "app"); got != "2399" {
		t.Errorf("shortened DurationSeconds = %s, want 2399 (whole seconds the parent has left)", got)
	}
	hub := env.Get(roles[0].Params)
	if c.Expiration.After(hub.Expiration) || hub.Expiration.Sub(c.Expiration) > time.Second {
		t.Errorf("child expires %v, parent %v: the child must not outlive it", c.Expiration, hub.Expiration)
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, `"level":"INFO","msg":"chained session shortened`) ||
		!strings.Contains(logs, `"requested":"1h0m0s","granted":"39m59s"`) {
		t.Errorf("shortening not logged at Info with both durations:\n%s", logs)
	}

	// 10 minutes left on the parent, and STS fails its renewal.
	env.STS.SetFault(localsts.Fault{Code: "InternalError"})
	env.Clock.Advance(30 * time.Minute)
	before := countCalls(env, "app")
	_, err = env.Service.Credentials(ctx, "app", "late")
	if !errors.Is(err, refresher.ErrNoCredentials) || ossd.ErrorCode(err) != "ossd.SourceRoleExpiring" ||
		!strings.Contains(err.Error(), testenv.Params("hub").RoleARN) || !strings.Contains(err.Error(), "less than the 15m0s") {
		t.Errorf("err = %v, want ossd.SourceRoleExpiring naming hub", err)
	}
	if n := countCalls(env, "app"); n != before {
		t.Errorf("%d child calls made with a parent token too short to sign with", n-before)
	}
}

// TestParentFailing: without a valid parent token the child's fetch fails
// with the parent's error, naming the parent.
func TestParentFailing(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "app") // STS knows no hub
	errs := env.Service.Apply(context.Background(), hubAndApp())
	err := errs["app"]
	if ossd.ErrorCode(err) != "EntityNotExist.Role" || !strings.Contains(err.Error(), "source role "+testenv.Params("hub").RoleARN) {
		t.Errorf("child error = %v, want hub's EntityNotExist.Role naming hub", err)
	}
	if n := countCalls(env, "app"); n != 0 {
		t.Errorf("%d calls for the child without a parent token", n)
	}
}

// lastDuration returns the DurationSeconds of the last call for role.
func lastDuration(env *testenv.Env, role string) string {
	d := ""
	for _, c := range env.STS.CallLog() {
		if c.Params.Get("RoleArn") == testenv.Params(role).RoleARN {
			d = c.Params.Get("DurationSeconds")
		}
	}
	return d
}

func countCalls(env *testenv.Env, role string) int {
	n := 0
	for _, c := range env.STS.CallLog() {
		if c.Params.Get("RoleArn") == testenv.Params(role).RoleARN {
			n++
		}
	}
	return n
}

package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/sessionname"
	"github.com/ossd/ossd/internal/testenv"
)

func perCaller(per sessionname.Per, names ...string) []service.Role {
	roles := testenv.Roles(names...)
	for i := range roles {
		roles[i].SessionPer = per
	}
	return roles
}

func caller(uid uint32, pid int32, cgroup string) context.Context {
	return peer.NewContext(context.Background(), peer.Identity{Known: true, UID: uid, GID: uid, PID: pid, Cgroup: cgroup, Via: "socket"})
}

// sessionNames returns the RoleSessionName of every AssumeRole call.
func sessionNames(env *testenv.Env) []string {
	var out []string
	for _, c := range env.STS.CallLog() {
		out = append(out, c.Params.Get("RoleSessionName"))
	}
	return out
}

// TestPerUIDSessions: two uids asking for the same role get sessions of
// their own, named after them, each one AssumeRole; asking again costs
// nothing. The audit line ties the AccessKeyId, the session name and the
// caller together.
func TestPerUIDSessions(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	var buf logtest.Buffer
	setAudit(env, &buf)
	if errs := env.Service.Apply(context.Background(), perCaller(sessionname.PerUID, "reader")); len(errs) != 0 {
		t.Fatal(errs)
	}
	if n := env.STS.Calls(); n != 0 {
		t.Errorf("Apply made %d calls: nobody may have the shared session of a per-caller role", n)
	}
	a, err := env.Service.Credentials(caller(4911, 10, ""), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Service.Credentials(caller(4912, 11, ""), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := env.Service.Credentials(caller(4911, 12, ""), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID == b.AccessKeyID || again.AccessKeyID != a.AccessKeyID {
		t.Errorf("AccessKeyIds %s, %s, %s; want two different, the third the first's", a.AccessKeyID, b.AccessKeyID, again.AccessKeyID)
	}
	if got := strings.Join(sessionNames(env), " "); got != "ossd-reader-u4911 ossd-reader-u4912" {
		t.Errorf("RoleSessionNames = %s, want ossd-reader-u4911 ossd-reader-u4912", got)
	}
	if pinned, onDemand := env.Cache.Len(); pinned != 0 || onDemand != 2 {
		t.Errorf("cache holds %d pinned, %d on-demand sessions; want 0, 2", pinned, onDemand)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3 (one per process):\n%s", len(lines), buf.String())
	}
	for i, want := range []struct {
		uid     float64
		session string
		key     string
	}{{4911, "ossd-reader-u4911", a.AccessKeyID}, {4912, "ossd-reader-u4912", b.AccessKeyID}, {4911, "ossd-reader-u4911", a.AccessKeyID}} {
		var got struct {
			SessionName string `json:"session_name"`
			Key         string `json:"access_key_id"`
			Caller      struct {
				UID float64 `json:"uid"`
			} `json:"caller"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got.SessionName != want.session || got.Key != want.key || got.Caller.UID != want.uid {
			t.Errorf("audit line %d = %s, want session %s, key %s, uid %v", i, lines[i], want.session, want.key, want.uid)
		}
	}
	st := env.Service.Status()
	if st[0].State != "per-caller" || st[0].SessionPer != "uid" {
		t.Errorf("status = %+v", st[0])
	}
}

// TestPerCallerRefusals: a caller the role cannot give a session of its
// own is refused, saying why, and audited; it never gets the shared
// session. Nor may a caller name part of its session.
func TestPerCallerRefusals(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "byunit", "bypod", "byuid")
	var buf logtest.Buffer
	setAudit(env, &buf)
	roles := append(perCaller(sessionname.PerUnit, "byunit"), perCaller(sessionname.PerPod, "bypod")...)
	roles = append(roles, perCaller(sessionname.PerUID, "byuid")...)
	env.Service.Apply(context.Background(), roles)
	tests := []struct {
		name, role string
		ctx        context.Context
		want       string
	}{
		{"unidentified", "byuid", peer.NewContext(context.Background(), peer.Identity{Via: "tcp 127.0.0.1:8100"}), `role "byuid": caller has no session of its own: session_per = "uid" and the caller could not be identified`},
		{"no context", "byuid", context.Background(), "could not be identified"},
		{"root cgroup", "byunit", caller(1000, 5, "/"), `session_per = "unit" and cgroup "/" is in no systemd unit`},
		{"cgroup unread", "byunit", caller(1000, 5, ""), `cgroup (unreadable) is in no systemd unit`},
		{"namespace-relative", "byunit", caller(1000, 5, "/../system.slice/app.service"), "is in no systemd unit"},
		{"not in a pod", "bypod", caller(1000, 5, "/system.slice/app.service"), "is in no Kubernetes pod"},
		{"pod lookalike in a unit", "bypod", caller(1000, 5, "/system.slice/app.service/kubepods/podffffffff-0000/x"), "is in no Kubernetes pod"},
	}
	for _, tc := range tests {
		_, err := env.Service.Credentials(tc.ctx, tc.role, "")
		var de *service.DeniedError
		if !errors.As(err, &de) || !errors.Is(err, service.ErrDenied) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want a denial containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := env.Service.Credentials(caller(1000, 5, ""), "byuid", "job7"); !errors.Is(err, service.ErrBadSession) {
		t.Errorf("session suffix on a per-caller role: err = %v, want ErrBadSession", err)
	}
	if n := env.STS.Calls(); n != 0 {
		t.Errorf("%d STS calls for refused callers", n)
	}
	if n := strings.Count(buf.String(), `"event":"deny"`); n != len(tests) {
		t.Errorf("%d denials audited, want %d:\n%s", n, len(tests), buf.String())
	}
}

// TestPerUnitAndPod: callers in one unit or pod share its session; a
// delegated cgroup below a unit is still that unit; names STS would refuse
// are made valid, and the local STS (which checks RoleSessionName as STS
// does) accepts them.
func TestPerUnitAndPod(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "byunit", "bypod")
	roles := append(perCaller(sessionname.PerUnit, "byunit"), perCaller(sessionname.PerPod, "bypod")...)
	roles[1].Params.SessionName = "ossd-a-rather-long-session-name-for-pods" // 40 bytes: a UUID does not fit
	env.Service.Apply(context.Background(), roles)
	const pod = "0a1b2c3d-1111-4222-8333-444455556666"
	get := func(role string, uid uint32, cgroup string) string {
		t.Helper()
		c, err := env.Service.Credentials(caller(uid, 5, cgroup), role, "")
		if err != nil {
			t.Fatalf("%s for %s: %v", role, cgroup, err)
		}
		return c.AccessKeyID
	}
	app := get("byunit", 1000, "/system.slice/app.service")
	if get("byunit", 1001, "/system.slice/app.service/evil.service") != app {
		t.Error("a cgroup delegated below app.service got another session than app.service")
	}
	if get("byunit", 1000, "/system.slice/evil.service") == app || get("byunit", 1000, "/user.slice/user-1000.slice/user@1000.service/app.slice/app.service") == app {
		t.Error("another unit, or a user's unit of the same name, shares app.service's session")
	}
	get("byunit", 1000, `/system.slice/system-x\x2dy.slice/a\x2db.service`)
	p := get("bypod", 0, "/kubepods/burstable/pod"+pod+"/ctr1")
	if get("bypod", 0, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"+strings.ReplaceAll(pod, "-", "_")+".slice/cri-containerd-2.scope") != p {
		t.Error("one pod seen through the two cgroup drivers got two sessions")
	}
	names := sessionNames(env)
	want := []string{"ossd-byunit-app.service", "ossd-byunit-evil.service", "ossd-byunit-app.service@u1000"}
	for i, w := range want {
		if names[i] != w {
			t.Errorf("session %d = %s, want %s", i, names[i], w)
		}
	}
	if len(names) != 5 {
		t.Fatalf("sessions %q, want 5", names)
	}
	for i, re := range []string{`^ossd-byunit-a_x2db\.service-[0-9a-f]{16}$`, `^ossd-a-rather-long-session-name-for-pods-0a1b2c-[0-9a-f]{16}$`} {
		if n := names[len(want)+i]; !regexp.MustCompile(re).MatchString(n) || !sessionname.Valid(n) {
			t.Errorf("session name %q, want %s", n, re)
		}
	}
	if len(env.STS.Issued()) != len(names) {
		t.Errorf("STS issued %d of %d sessions: it refused a name", len(env.STS.Issued()), len(names))
	}
}

// TestPerCallerRenewed: a caller's session is an on-demand session like any
// other: renewed ahead of expiry while it is used, with the same floor.
func TestPerCallerRenewed(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), perCaller(sessionname.PerUID, "reader"))
	first, err := env.Service.Credentials(caller(4911, 5, ""), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(40 * time.Minute) // past half the lifetime
	if _, err := env.Service.Credentials(caller(4911, 5, ""), "reader", ""); err != nil {
		t.Fatal(err)
	}
	env.Ref.RefreshDue(context.Background())
	if n := env.STS.Calls(); n != 2 {
		t.Fatalf("STS calls = %d, want 2: the used session renewed in the background", n)
	}
	next, err := env.Service.Credentials(caller(4911, 5, ""), "reader", "")
	if err != nil || next.AccessKeyID == first.AccessKeyID {
		t.Errorf("after renewal got %s (%v), want a new token", next.AccessKeyID, err)
	}
	if names := sessionNames(env); names[1] != "ossd-reader-u4911" {
		t.Errorf("renewed as %s", names[1])
	}
}

// BenchmarkCredentialsShared and BenchmarkCredentialsPerUID compare a
// cached request for a shared role with one for a caller's own session.
func BenchmarkCredentialsShared(b *testing.B) { benchCredentials(b, sessionname.PerRole) }

func BenchmarkCredentialsPerUID(b *testing.B) { benchCredentials(b, sessionname.PerUID) }

func benchCredentials(b *testing.B, per sessionname.Per) {
	env := testenv.New(b, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), perCaller(per, "reader"))
	ctx := caller(4911, 5, "")
	if _, err := env.Service.Credentials(ctx, "reader", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.Service.Credentials(ctx, "reader", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPerCallerPresign: URLs signed for a caller of a per-caller role are
// signed with that caller's session, and so are the longer sessions fetched
// for long URLs, never with the role's shared session.
func TestPerCallerPresign(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), perCaller(sessionname.PerUID, "reader"))
	_, session, err := env.Service.CredentialsFor(caller(4911, 5, ""), "reader", 15*time.Minute, 2*time.Hour)
	if err != nil || session != "ossd-reader-u4911" {
		t.Errorf("short URL: session %q, %v; want ossd-reader-u4911", session, err)
	}
	_, session, err = env.Service.CredentialsFor(caller(4912, 5, ""), "reader", 90*time.Minute, 2*time.Hour)
	if err != nil || !strings.HasPrefix(session, "ossd-reader-u4912-p") {
		t.Errorf("long URL: session %q, %v; want ossd-reader-u4912-p<window>", session, err)
	}
	if _, _, err := env.Service.CredentialsFor(peer.NewContext(context.Background(), peer.Identity{}), "reader", time.Minute, time.Hour); !errors.Is(err, service.ErrDenied) {
		t.Errorf("unidentified caller: err = %v, want a denial", err)
	}
	for _, n := range sessionNames(env) {
		if n == "ossd-reader" {
			t.Error("a URL was signed with the role's shared session")
		}
	}
}

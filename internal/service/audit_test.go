package service_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/testenv"
)

// TestAuditScript runs a scripted sequence of requests and checks the
// audit log line by line.
func TestAuditScript(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "open")
	var buf logtest.Buffer
	setAudit(env, &buf)
	roles := testenv.Roles("reader", "open")
	app, err := filepath.Abs(os.Args[0]) // an executable that exists: exe rules match files
	if err != nil {
		t.Fatal(err)
	}
	file, err := peer.FileOf(app)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := access.Compile(config.Allow{UIDs: []uint32{1000}, Exe: []string{app}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles[0].Allow = rule
	ctx := context.Background()
	env.Service.Apply(ctx, roles)

	alice := peer.NewContext(ctx, peer.Identity{Known: true, UID: 1000, GID: 1000, PID: 11, Exe: app, ExeFile: file, Cgroup: "/a.slice", NS: peer.NSOwn, Via: "socket"})
	bob := peer.NewContext(ctx, peer.Identity{Known: true, UID: 1001, GID: 1001, PID: 12, Exe: app, ExeFile: file, NS: peer.NSOwn, Via: "tcp 127.0.0.1:8100"})
	nobody := peer.NewContext(ctx, peer.Identity{Via: "tcp 127.0.0.1:8100"})
	c1, _ := env.Service.Credentials(alice, "reader", "")
	env.Service.Credentials(bob, "reader", "")
	env.Service.Credentials(bob, "nosuch", "")
	env.Service.Credentials(nobody, "reader", "")
	c2, _ := env.Service.Credentials(bob, "open", "job7")

	want := []map[string]any{
		{"event": "issue", "role": "reader", "session_name": "ossd-reader", "path": "socket", "access_key_id": c1.AccessKeyID, "result": "ok",
			"caller": map[string]any{"identified": true, "uid": 1000.0, "gid": 1000.0, "pid": 11.0, "exe": app, "exe_file": file.String(), "cgroup": "/a.slice", "ns": "own"}},
		{"event": "deny", "role": "reader", "path": "tcp 127.0.0.1:8100", "result": "AccessDenied: uid 1001 not in allow.users/uids",
			"caller": map[string]any{"identified": true, "uid": 1001.0, "gid": 1001.0, "pid": 12.0, "exe": app, "exe_file": file.String(), "ns": "own"}},
		{"event": "deny", "role": "nosuch", "path": "tcp 127.0.0.1:8100", "result": "AccessDenied: no such role",
			"caller": map[string]any{"identified": true, "uid": 1001.0, "gid": 1001.0, "pid": 12.0, "exe": app, "exe_file": file.String(), "ns": "own"}},
		{"event": "deny", "role": "reader", "path": "tcp 127.0.0.1:8100", "result": "AccessDenied: caller not identified",
			"caller": map[string]any{"identified": false, "uid": 0.0, "gid": 0.0, "pid": 0.0}},
		{"event": "issue", "role": "open", "session": "job7", "session_name": "ossd-open-job7", "path": "tcp 127.0.0.1:8100", "access_key_id": c2.AccessKeyID, "result": "ok",
			"caller": map[string]any{"identified": true, "uid": 1001.0, "gid": 1001.0, "pid": 12.0, "exe": app, "exe_file": file.String(), "ns": "own"}},
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d not JSON: %q", i, line)
		}
		if got["time"] != "2030-01-01T00:00:00.000Z" {
			t.Errorf("line %d time = %v", i, got["time"])
		}
		delete(got, "time")
		delete(got, "expiry") // checked by the issuance's presence of access_key_id
		if !mapsEqual(got, want[i]) {
			t.Errorf("line %d =\n%v\nwant\n%v", i, got, want[i])
		}
	}
	logtest.NoSecrets(t, "audit log", buf.String(), env.Secrets()...)
}

// setAudit makes env's service audit to w, with denials grouped by a
// refusal recorder on env's clock, and returns the audit logger and the
// recorder.
func setAudit(env *testenv.Env, w io.Writer) (*audit.Logger, *refusal.Recorder) {
	l := audit.New(w, env.Clock)
	rec := refusal.New(refusal.Options{Audit: l, Clock: env.Clock, Known: func(r string) bool { _, ok := env.Service.Lookup(r); return ok }})
	env.Service.SetAudit(l, rec)
	return l, rec
}

func mapsEqual(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestAuditIssuanceOnce: the same token handed again to the same process
// is one issuance; another process, or a new token, is another.
func TestAuditIssuanceOnce(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	var buf logtest.Buffer
	setAudit(env, &buf)
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	p1 := peer.NewContext(ctx, peer.Identity{Known: true, UID: 1000, PID: 11, Via: "socket"})
	p2 := peer.NewContext(ctx, peer.Identity{Known: true, UID: 1000, PID: 12, Via: "socket"})
	for range 5 {
		env.Service.Credentials(p1, "reader", "")
	}
	env.Service.Credentials(p2, "reader", "")
	env.Service.Credentials(p1, "reader", "other") // another session: another token
	if n := strings.Count(buf.String(), `"event":"issue"`); n != 3 {
		t.Errorf("%d issuance lines, want 3:\n%s", n, buf.String())
	}
}

// TestAuditUnidentifiedEveryTime: callers ossd could not identify (a TCP
// peer whose process was not found) all look alike, so none of them stands
// for another: each issuance to one is written, not only the first.
func TestAuditUnidentifiedEveryTime(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	var buf logtest.Buffer
	setAudit(env, &buf)
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	unknown := peer.NewContext(ctx, peer.Identity{Via: "tcp 127.0.0.1:8080"})
	for range 3 {
		if _, err := env.Service.Credentials(unknown, "reader", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), `"event":"issue"`); n != 3 {
		t.Errorf("%d issuance lines for 3 unidentified callers, want 3:\n%s", n, buf.String())
	}
}

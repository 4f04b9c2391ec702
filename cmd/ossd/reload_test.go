package main_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
)

// reloadEnv is a daemon binary on a config file, against an in-process
// local STS that knows roles a, b and c.
type reloadEnv struct {
	t        *testing.T
	sts      *localsts.Server
	endpoint string
	dir      string
	path     string
	d        *daemon
}

func newReloadEnv(t *testing.T, roles ...string) *reloadEnv {
	t.Helper()
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "a", "b", "c")
	e := &reloadEnv{t: t, sts: s, endpoint: endpoint, dir: t.TempDir()}
	e.path = filepath.Join(e.dir, "ossd.toml")
	os.WriteFile(filepath.Join(e.dir, "secret"), []byte(testenv.KeySecret), 0o600)
	e.write(roles...)
	sock := testenv.SocketPath(t)
	e.d = startDaemon(t, sock, "serve", "--config", e.path, "--socket", sock)
	return e
}

// write replaces the config atomically, as editors do.
func (e *reloadEnv) write(roles ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret_file = \"secret\"\n[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\n", testenv.KeyID, e.endpoint)
	for _, r := range roles {
		fmt.Fprintf(&b, "[[role]]\nname = %q\narn = %q\n", r, testenv.Params(r).RoleARN)
	}
	e.writeRaw(b.String())
}

func (e *reloadEnv) writeRaw(s string) {
	tmp := e.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, e.path); err != nil {
		e.t.Fatal(err)
	}
}

// eventually polls role until it answers want.
func (e *reloadEnv) eventually(role string, want int) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _ := get(e.t, e.d.Socket, "/v1/credentials/"+role)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("role %s: status %d, want %d\nstderr:\n%s", role, status, want, e.d.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	e := newReloadEnv(t, "a", "b")
	e.eventually("a", 200)
	e.eventually("c", 404)

	e.write("a", "b", "c") // add
	e.eventually("c", 200)

	e.write("a", "c") // remove
	e.eventually("b", 404)

	e.writeRaw("[source]\ntype = \"access_key\"\nbogus = 1\n") // invalid: keep running config
	waitFor(t, func() bool { return strings.Contains(e.d.Stderr.String(), "config reload rejected") })
	if !strings.Contains(e.d.Stderr.String(), `unknown key \"source.bogus\"`) {
		t.Errorf("log does not say what is wrong:\n%s", e.d.Stderr)
	}
	e.eventually("a", 200)
	e.eventually("c", 200)

	for i := 0; i < 10; i++ { // rapid successive writes settle on the last
		e.write("a")
	}
	e.write("b")
	e.eventually("b", 200)
	e.eventually("a", 404)

	before := strings.Count(e.d.Stderr.String(), "config reloaded")
	e.d.Cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool {
		return strings.Count(e.d.Stderr.String(), "config reloaded") > before && strings.Contains(e.d.Stderr.String(), "why=SIGHUP")
	})
}

// TestReloadMetadataListeners adds, changes and removes [[metadata]]
// listeners by reload. A listener whose role changes keeps its socket and
// switches handler.
func TestReloadMetadataListeners(t *testing.T) {
	e := newReloadEnv(t, "a", "b", "c")
	a, b := freeAddr(t), freeAddr(t)
	base := func(md string) string {
		var s strings.Builder
		fmt.Fprintf(&s, "[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret_file = \"secret\"\n[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\n", testenv.KeyID, e.endpoint)
		for _, r := range []string{"a", "b", "c"} {
			fmt.Fprintf(&s, "[[role]]\nname = %q\narn = %q\n", r, testenv.Params(r).RoleARN)
		}
		return s.String() + md
	}
	list := func(addr string) string { // the role a listener serves, or the error
		resp, err := client.Get("http://" + addr + "/latest/meta-data/ram/security-credentials/")
		if err != nil {
			return "error"
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	waitRole := func(addr, want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); list(addr) != want; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s serves %q, want %q\nstderr:\n%s", addr, list(addr), want, e.d.Stderr)
			}
		}
	}
	e.writeRaw(base(fmt.Sprintf("[[metadata]]\nlisten = %q\nrole = \"a\"\n", a)))
	waitRole(a, "a")
	e.writeRaw(base(fmt.Sprintf("[[metadata]]\nlisten = %q\nrole = \"c\"\n[[metadata]]\nlisten = %q\nrole = \"b\"\n", a, b)))
	waitRole(b, "b")
	waitRole(a, "c")
	if log := e.d.Stderr.String(); !strings.Contains(log, `metadata listener changed" addr=`+a) || strings.Contains(log, `metadata listener closed" addr=`+a) {
		t.Errorf("a role change reopened the listener instead of switching its handler:\n%s", log)
	}
	e.writeRaw(base(fmt.Sprintf("[[metadata]]\nlisten = %q\nrole = \"b\"\n", b)))
	waitRole(a, "error")
	waitRole(b, "b")
	if strings.Contains(e.d.Stderr.String(), "takes effect at the next restart") {
		t.Errorf("metadata changes were deferred to a restart:\n%s", e.d.Stderr)
	}
}

// client keeps connections alive across reloads.
var client = &http.Client{Timeout: 2 * time.Second}

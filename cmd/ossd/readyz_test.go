package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

type readyBody struct {
	Ready   bool `json:"ready"`
	Failing []struct {
		Name, State, Code string
	} `json:"failing"`
	Pending    []string `json:"pending"`
	LastReload *struct {
		OK    bool   `json:"ok"`
		Why   string `json:"why"`
		Error string `json:"error"`
	} `json:"last_reload"`
}

// waitTried waits until the daemon at sock has tried every role: serving
// starts before the first fetches.
func waitTried(t *testing.T, sock string) {
	t.Helper()
	waitFor(t, func() bool {
		_, body := get(t, sock, "/readyz")
		return strings.Contains(body, `"pending":[]`)
	})
}

func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRejectedReloadVisible: a reload the daemon rejects shows in /readyz
// on the socket and the metrics listener, in the metrics and in status,
// while the running config keeps serving.
func TestRejectedReloadVisible(t *testing.T) {
	e := newReloadEnv(t, "a")
	metricsAddr := freeAddr(t)
	good := fmt.Sprintf("[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret_file = \"secret\"\n[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\n[metrics]\nlisten = %q\n[[role]]\nname = \"a\"\narn = %q\n",
		testenv.KeyID, e.endpoint, metricsAddr, testenv.Params("a").RoleARN)
	e.d.Stop(t)
	e.writeRaw(good)
	sock := testenv.SocketPath(t)
	e.d = startDaemon(t, sock, "serve", "--config", e.path, "--socket", sock)

	waitTried(t, sock)
	code, body := get(t, sock, "/readyz")
	if code != 200 || !strings.Contains(body, `"ready":true`) || !strings.Contains(body, `"why":"start"`) {
		t.Fatalf("/readyz at start = %d %s", code, body)
	}
	// An unknown user: config check and reload both refuse it.
	e.writeRaw(good + "[role.allow]\nusers = [\"no-such-user-4711\"]\n")
	var rb readyBody
	waitFor(t, func() bool {
		_, body := get(t, sock, "/readyz")
		rb = readyBody{}
		json.Unmarshal([]byte(body), &rb)
		return rb.LastReload != nil && !rb.LastReload.OK
	})
	if !strings.Contains(rb.LastReload.Error, "no-such-user-4711") || rb.LastReload.Why != "file changed" || !rb.Ready {
		t.Errorf("/readyz after a rejected reload = %+v", rb)
	}
	if code, body := getURL(t, "http://"+metricsAddr+"/readyz"); code != 200 || !strings.Contains(body, `"ok":false`) {
		t.Errorf("metrics /readyz = %d %s", code, body)
	}
	_, metrics := getURL(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []string{"ossd_config_last_reload_success 0", "ossd_config_last_reload_timestamp_seconds ", `ossd_build_info{goversion="go`, "go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	stdout, stderr, code := runBin(t, nil, "status", "--socket", sock)
	if code != 0 || !strings.Contains(stdout, "last config load: REJECTED") || !strings.Contains(stdout, "no-such-user-4711") {
		t.Errorf("status after a rejected reload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if status, _ := get(t, sock, "/v1/credentials/a"); status != 200 {
		t.Errorf("the running config stopped serving: %d", status)
	}
}

// TestServeRefusesWhatConfigCheckRefuses: serve and config check run the
// same checks, so each config below is refused by both, with the same
// problem named.
func TestServeRefusesWhatConfigCheckRefuses(t *testing.T) {
	dir := t.TempDir()
	base := "[sts]\nregion = \"cn-hangzhou\"\n[[role]]\nname = \"r\"\narn = \"acs:ram::1234567890123456:role/r\"\n"
	tests := []struct{ name, cfg, want string }{
		{"missing secret file", "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\naccess_key_secret_file = \"nope\"\n" + base, "read access key secret"},
		{"no key anywhere", "[source]\ntype = \"access_key\"\n" + base, "no access key id"},
		{"unknown user", "[source]\ntype = \"default\"\n" + base + "[role.allow]\nusers = [\"no-such-user\"]\n", `unknown user "no-such-user"`},
		{"audit in a missing directory", "[source]\ntype = \"default\"\n" + base + "[audit]\nfile = \"/nonexistent-ossd/audit.log\"\n", "audit.file"},
		{"type error", "[source]\ntype = \"access_key\"\naccess_key_secret = 123\n" + base, "line 3: source.access_key_secret: want a string, not an integer"},
		{"relative socket", "[source]\ntype = \"default\"\n[server]\nsocket = \"ossd.sock\"\n" + base, "server.socket"},
		{"short account id", "[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\n[[role]]\nname = \"r\"\narn = \"acs:ram::1:role/r\"\n", "want the 16 digits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".toml")
			os.WriteFile(path, []byte(tc.cfg), 0o600)
			env := []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="}
			_, checkErr, checkCode := runBin(t, env, "config", "check", path)
			_, serveErr, serveCode := runBin(t, env, "serve", "--config", path, "--socket", filepath.Join(dir, "s.sock"))
			if checkCode != 1 || serveCode != 1 {
				t.Fatalf("config check exit %d, serve exit %d, want 1 and 1\n%s\n%s", checkCode, serveCode, checkErr, serveErr)
			}
			if !strings.Contains(checkErr, tc.want) || !strings.Contains(serveErr, tc.want) {
				t.Errorf("want %q from both:\ncheck: %s\nserve: %s", tc.want, checkErr, serveErr)
			}
		})
	}
}

// TestReadyzHidesRolesFromOthers: once roles have rules, a caller cannot
// learn from /readyz which roles exist that it may not have: not from the
// failing list, nor from the error of a rejected reload.
func TestReadyzHidesRolesFromOthers(t *testing.T) {
	needs.Root(t, "to run clients as other users")
	t.Setenv("HTTP_PROXY", "")
	_, endpoint := testenv.StartSTS(t, "reader")
	dir := testenv.PublicDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	cfg := stsConfig(endpoint, fmt.Sprintf(`[server]
socket_mode = "0666"
[[role]]
name = "reader"
arn = %q
[role.allow]
uids = [4343, 4242]
[[role]]
name = "payroll-secret"
arn = "acs:ram::%s:role/no-such-role"
[role.allow]
uids = [4242]
`, testenv.Params("reader").RoleARN, testenv.Account))
	path := filepath.Join(t.TempDir(), "ossd.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	waitTried(t, sock)
	client := publicCopy(t, os.Args[0], dir)

	if out := asUser(t, client, 4242, sock, "/readyz"); !strings.HasPrefix(out, "503 ") || !strings.Contains(out, `"name":"payroll-secret"`) {
		t.Errorf("allowed user's /readyz = %s", out)
	}
	other := asUser(t, client, 4343, sock, "/readyz")
	if !strings.HasPrefix(other, "503 ") || strings.Contains(other, "payroll") || !strings.Contains(other, `"hidden_not_ready":1`) {
		t.Errorf("other user's /readyz = %s", other)
	}
	// A rejected reload whose error names the hidden role.
	tmp := path + ".tmp"
	os.WriteFile(tmp, []byte(cfg+"[[role]]\nname = \"payroll-secret\"\narn = \"acs:ram::1234567890123456:role/x\"\n"), 0o600)
	os.Rename(tmp, path)
	waitFor(t, func() bool { return strings.Contains(asUser(t, client, 4242, sock, "/readyz"), `"ok":false`) })
	if out := asUser(t, client, 4242, sock, "/readyz"); !strings.Contains(out, "duplicate role name") {
		t.Errorf("a user who may have every role does not see the reload error: %s", out)
	}
	if out := asUser(t, client, 4343, sock, "/readyz"); strings.Contains(out, "payroll") || !strings.Contains(out, `"ok":false`) {
		t.Errorf("other user's /readyz after the rejected reload = %s", out)
	}
}

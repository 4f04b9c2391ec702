package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
)

// accessKeyID returns the AccessKeyId of a "200 {...}" answer.
func accessKeyID(t *testing.T, out string) string {
	t.Helper()
	body, ok := strings.CutPrefix(out, "200 ")
	var c struct{ AccessKeyId string }
	if !ok || json.Unmarshal([]byte(body), &c) != nil || c.AccessKeyId == "" {
		t.Fatalf("want credentials, got %s", out)
	}
	return c.AccessKeyId
}

// assumeCalls returns the RoleSessionName of every AssumeRole s answered.
func assumeCalls(s *localsts.Server) []string {
	var out []string
	for _, c := range s.CallLog() {
		out = append(out, c.Params.Get("RoleSessionName"))
	}
	return out
}

// stsConfig returns the [source] and [sts] tables of a config pointing at
// the local STS at endpoint, then extra.
func stsConfig(endpoint, extra string) string {
	return testenv.SourceTOML(endpoint) + extra
}

// hubAndApp returns the [[role]]s hub, and app assumed through hub, then
// extra for app.
func hubAndApp(extra string) string {
	return fmt.Sprintf("[[role]]\nname = \"hub\"\narn = %q\n[[role]]\nname = \"app\"\narn = %q\nsource_role = \"hub\"\n",
		testenv.Params("hub").RoleARN, testenv.Params("app").RoleARN) + extra
}

// writeConfig writes cfg to a fresh file and returns its path.
func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSessionPerUID: two users asking for the same session_per = "uid" role
// get sessions of their own, which STS records under names that say which
// uid; the first user asking again costs no call; and neither can pick the
// other's session by naming it.
func TestSessionPerUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader")
	dir := testenv.PublicDir(t)
	sock := filepath.Join(dir, "ossd.sock")
	path := writeConfig(t, stsConfig(endpoint, fmt.Sprintf(`
[server]
socket_mode = "0666"
[[role]]
name = "reader"
arn = %q
session_per = "uid"
[role.allow]
uids = [4911, 4912]
`, testenv.Params("reader").RoleARN)))
	d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	client := publicCopy(t, os.Args[0], dir)
	if n := s.Calls(); n != 0 {
		t.Errorf("%d AssumeRole calls at start-up: nobody may have the shared session", n)
	}

	first := accessKeyID(t, asUser(t, client, 4911, sock, "/v1/credentials/reader"))
	second := accessKeyID(t, asUser(t, client, 4912, sock, "/v1/credentials/reader"))
	if first == second {
		t.Fatalf("uids 4911 and 4912 got the same AccessKeyId %s", first)
	}
	if got := strings.Join(assumeCalls(s), " "); got != "ossd-reader-u4911 ossd-reader-u4912" {
		t.Errorf("STS saw RoleSessionNames %s, want ossd-reader-u4911 ossd-reader-u4912", got)
	}
	if again := accessKeyID(t, asUser(t, client, 4911, sock, "/v1/credentials/reader")); again != first {
		t.Errorf("uid 4911 asking again got %s, want %s", again, first)
	}
	if n := s.Calls(); n != 2 {
		t.Errorf("STS calls = %d after the third request, want 2", n)
	}
	// 4912 tries to reach 4911's session by naming it.
	if out := asUser(t, client, 4912, sock, "/v1/credentials/reader?session=u4911"); !strings.HasPrefix(out, "400 ") || strings.Contains(out, first) {
		t.Errorf("uid 4912 naming a session got %s", out)
	}
	if n := s.Calls(); n != 2 {
		t.Errorf("STS calls = %d, want 2", n)
	}
	audited := d.Stderr.String() // the audit log goes to stderr by default
	for uid, key := range map[int]string{4911: first, 4912: second} {
		line := fmt.Sprintf(`"session_name":"ossd-reader-u%d","access_key_id":%q`, uid, key)
		if !strings.Contains(audited, line) || !strings.Contains(audited, fmt.Sprintf(`"uid":%d`, uid)) {
			t.Errorf("no audit line ties %s, session ossd-reader-u%d and uid %d:\n%s", key, uid, uid, audited)
		}
	}
	for _, is := range s.Issued() {
		if strings.Contains(audited, is.SecurityToken) || strings.Contains(audited, is.AccessKeySecret) {
			t.Error("a secret reached the log")
		}
	}
}

// TestChainedRole: a role with source_role is assumed with its parent's
// STS key, through the daemon, and the parent's token is fetched once.
func TestChainedRole(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "hub", "app")
	sock := testenv.SocketPath(t)
	path := writeConfig(t, stsConfig(endpoint, hubAndApp("")))
	startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
	status, body := get(t, sock, "/v1/credentials/app")
	if status != 200 {
		t.Fatalf("app: %d %s", status, body)
	}
	var hub, app localsts.Issued
	for _, is := range s.Issued() {
		switch is.RoleArn {
		case testenv.Params("hub").RoleARN:
			hub = is
		case testenv.Params("app").RoleARN:
			app = is
		}
	}
	if hub.SignedBy != testenv.KeyID || app.SignedBy != hub.AccessKeyID || !strings.Contains(body, app.AccessKeyID) {
		t.Errorf("hub signed by %q, app by %q (hub's key %s); served %s", hub.SignedBy, app.SignedBy, hub.AccessKeyID, body)
	}
	if n := s.Calls(); n != 2 {
		t.Errorf("STS calls = %d, want 2", n)
	}
}

// TestConfigCheckChains: ossd config check names the chain of a cycle, of
// a chain too deep, and of a chained session longer than STS allows.
func TestConfigCheckChains(t *testing.T) {
	const head = "[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\n"
	role := func(name, source string) string {
		return fmt.Sprintf("[[role]]\nname = %q\narn = \"acs:ram::1111111111111111:role/%s\"\nsource_role = %q\n", name, name, source)
	}
	deep := head + "[[role]]\nname = \"r0\"\narn = \"acs:ram::1111111111111111:role/r0\"\n"
	for i := 1; i <= 6; i++ {
		deep += role(fmt.Sprintf("r%d", i), fmt.Sprintf("r%d", i-1))
	}
	tests := []struct{ name, in, want string }{
		{"cycle", head + role("a", "b") + role("b", "a"), "role[0].source_role: cycle a -> b -> a"},
		{"too deep", deep, "role[6].source_role: chain r6 -> r5 -> r4 -> r3 -> r2 -> r1 -> r0 -> ... has more than 5 source_role links"},
		{"unknown", head + role("a", "gone"), `role[0].source_role: unknown role "gone" (chain a -> gone)`},
		{"too long", head + "[[role]]\nname = \"p\"\narn = \"acs:ram::1111111111111111:role/p\"\n" + role("c", "p") + "duration = \"2h\"\n", "role[1].duration: 2h0m0s is more than 1h0m0s"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		path := filepath.Join(dir, tc.name+".toml")
		os.WriteFile(path, []byte(tc.in), 0o600)
		out, err := exec.Command(ossdBin, "config", "check", path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: config check = %v\n%s\nwant it to fail with %q", tc.name, err, out, tc.want)
		}
	}
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(head+"[[role]]\nname = \"p\"\narn = \"acs:ram::1111111111111111:role/p\"\n"+role("c", "p")+"session_per = \"pod\"\n"), 0o600)
	if out, err := exec.Command(ossdBin, "config", "check", good).CombinedOutput(); err != nil {
		t.Errorf("config check of a valid chain: %v\n%s", err, out)
	}
}

// TestDirectChainedPerUID: credential-process --direct assumes a chained,
// per-uid role as the daemon would: the parent first, the child signed by
// the parent's key and named after the uid that runs the helper.
func TestDirectChainedPerUID(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "hub", "app")
	path := writeConfig(t, stsConfig(endpoint, hubAndApp(`session_per = "uid"`+"\n")))
	dir := t.TempDir()
	run := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(ossdBin, append([]string{"credential-process", "--direct", "--config", path, "--role", "app"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "XDG_RUNTIME_DIR=" + dir, "HOME=" + dir}
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	out, errOut, err := run()
	if err != nil {
		t.Fatalf("credential-process: %v\n%s", err, errOut)
	}
	checkOutput(t, out)
	want := fmt.Sprintf("ossd-hub ossd-app-u%d", os.Geteuid())
	if got := strings.Join(assumeCalls(s), " "); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
	if is := s.Issued(); len(is) != 2 || is[1].SignedBy != is[0].AccessKeyID {
		t.Errorf("the child was not signed by the parent's key")
	}
	if _, errOut, err := run("--session", "x"); err == nil || !strings.Contains(errOut, "takes no suffix") {
		t.Errorf("--session on a per-uid role: %v\n%s", err, errOut)
	}
}

package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// TestServeDevWithConfig: serve --dev --config FILE runs FILE's roles,
// listeners and rules against the embedded local STS, whatever FILE says
// of [source] and [sts], and the banner says so.
func TestServeDevWithConfig(t *testing.T) {
	dir := t.TempDir()
	mdAddr := freeAddr(t)
	cfg := `
[source]
type = "ecs_ram_role"             # replaced in dev mode
[sts]
region = "cn-shanghai"
endpoint = "https://sts.example.invalid"
[[role]]
name = "app"
arn = "acs:ram::1111111111111111:role/app-oss"
[[role]]
name = "guarded"
arn = "acs:ram::1111111111111111:role/other"
[role.allow]
uids = [4999]
[[metadata]]
listen = "` + mdAddr + `"
role = "app"
`
	path := filepath.Join(dir, "ossd.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--config", path, "--socket", sock)
	if code, body := get(t, sock, "/v1/credentials/app"); code != 200 || !strings.Contains(body, `"Code":"Success"`) {
		t.Errorf("GET app = %d %s", code, body)
	}
	if code, body := get(t, sock, "/v1/credentials/guarded"); code != 403 {
		t.Errorf("GET guarded as uid %d = %d %s, want the file's rule to refuse", os.Geteuid(), code, body)
	}
	if code, _ := getURL(t, "http://"+mdAddr+"/latest/meta-data/ram/security-credentials/app"); code != 200 {
		t.Errorf("the file's metadata listener answered %d", code)
	}
	waitFor(t, func() bool { return strings.Contains(d.Stdout.String(), "curl --unix-socket") })
	banner := d.Stdout.String()
	for _, want := range []string{"DEV mode", "FAKE", "config:   " + path, "REPLACED by the local STS", "roles:    app, guarded"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
}

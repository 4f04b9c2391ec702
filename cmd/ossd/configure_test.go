package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cliConfig is an aliyun CLI config with several profiles and keys the CLI
// does not know, at every level.
const cliConfig = `{
	"current": "dev",
	"profiles": [
		{"name": "dev", "mode": "AK", "access_key_id": "LTAIdev", "access_key_secret": "dev-secret", "region_id": "cn-hangzhou", "x-custom": 12345678901234567890},
		{"mode": "StsToken", "name": "ci", "access_key_id": "STS.old", "access_key_secret": "old-secret", "sts_token": "old-token", "region_id": "cn-beijing", "x-keep": [1, {"deep": true}]},
		{"name": "prod", "mode": "RamRoleArn", "ram_role_arn": "acs:ram::1:role/p", "ram_session_name": "s", "region_id": "cn-shanghai"}
	],
	"meta_path": "",
	"x-top": {"tags": ["a"]}
}
`

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func byName(m map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range m["profiles"].([]any) {
		out[p.(map[string]any)["name"].(string)] = p.(map[string]any)
	}
	return out
}

// TestConfigureUpdatesOnlyTarget rewrites profile "ci" to External and
// checks that nothing else in the file changed, that a 0600 backup holds
// the old bytes, and that the file keeps its mode.
func TestConfigureUpdatesOnlyTarget(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".aliyun", "config.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(cliConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)
	stdout, stderr, code := runBin(t, []string{"HOME=" + home}, "configure", "aliyun-cli", "--profile", "ci", "--role", "reader", "--ossd", "/usr/local/bin/ossd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, after := decodeJSON(t, []byte(cliConfig)), decodeJSON(t, got)
	bp, ap := byName(before), byName(after)
	target := ap["ci"]
	if target["mode"] != "External" || target["process_command"] != "/usr/local/bin/ossd credential-process --role reader" {
		t.Errorf("profile ci = %v", target)
	}
	bp["ci"]["mode"], bp["ci"]["process_command"] = "External", "/usr/local/bin/ossd credential-process --role reader"
	if !reflect.DeepEqual(bp, ap) {
		t.Errorf("profiles changed beyond ci's mode and process_command:\nbefore %v\nafter  %v", bp, ap)
	}
	delete(before, "profiles")
	delete(after, "profiles")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("top level changed:\nbefore %v\nafter  %v", before, after)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("config mode = %v, %v; want 0640 as before", fi.Mode().Perm(), err)
	}
	backups, _ := filepath.Glob(path + ".bak-*")
	if len(backups) != 1 {
		t.Fatalf("backups = %v, want one", backups)
	}
	if b, err := os.ReadFile(backups[0]); err != nil || string(b) != cliConfig {
		t.Errorf("backup holds %q, %v; want the original bytes", b, err)
	}
	if fi, err := os.Stat(backups[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	for _, w := range []string{`updated profile "ci"`, backups[0], "aliyun --profile ci"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, w := range []string{"plain text", "credentials URI", "still holds access_key_secret and sts_token", "readable by group or others"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stdout+stderr, "old-secret") || strings.Contains(stdout+stderr, "old-token") {
		t.Errorf("output quotes a secret from the file:\n%s\n%s", stdout, stderr)
	}
}

func TestConfigureNewFileAndURI(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".aliyun", "config.json")
	_, stderr, code := runBin(t, []string{"HOME=" + home}, "configure", "aliyun-cli", "--profile", "ossd", "--role", "reader", "--region", "cn-hangzhou", "--ossd", "/opt/ossd/ossd", "--socket", "/run/ossd/ossd.sock")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new config: %v, mode %v; want 0600", err, fi.Mode())
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("new ~/.aliyun: mode %v, %v; want 0700", di.Mode(), err)
	}
	got, _ := os.ReadFile(path)
	m := decodeJSON(t, got)
	p := byName(m)["ossd"]
	want := map[string]any{"name": "ossd", "mode": "External", "process_command": "/opt/ossd/ossd credential-process --role reader --socket /run/ossd/ossd.sock", "region_id": "cn-hangzhou", "output_format": "json"}
	if m["current"] != "ossd" || !reflect.DeepEqual(p, want) {
		t.Errorf("new config = %s", got)
	}
	if b, _ := filepath.Glob(path + ".bak-*"); len(b) != 0 {
		t.Errorf("backups of a file that did not exist: %v", b)
	}
	// The path of a credentials URI is the role's bearer token (SPEC §3).
	uri := "http://127.0.0.1:7070/k7Qx9BearerPathToken/reader?sig=abc&x=1"
	stdout, stderr, code := runBin(t, []string{"HOME=" + home}, "configure", "aliyun-cli", "--profile", "ossd", "--role", "reader", "--uri", "--uri-value", uri)
	if code != 0 {
		t.Fatalf("--uri: exit %d: %s", code, stderr)
	}
	got, _ = os.ReadFile(path)
	p = byName(decodeJSON(t, got))["ossd"]
	if p["mode"] != "CredentialsURI" || p["credentials_uri"] != uri || p["region_id"] != "cn-hangzhou" {
		t.Errorf("after --uri: %v", p)
	}
	for _, secret := range []string{"k7Qx9BearerPathToken", "sig=abc"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("output shows the URI's %q:\n%s\n%s", secret, stdout, stderr)
		}
	}
	if !strings.Contains(stderr, "ALIBABA_CLOUD_CREDENTIALS_URI") {
		t.Errorf("stderr lacks the SDK note:\n%s", stderr)
	}
}

func TestConfigureRefusals(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".aliyun", "config.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	broken := `{"profiles": [{"name": "a", "access_key_secret": "broken-secret"`
	tests := []struct {
		name, file string
		args       []string
		code       int
		want       string
	}{
		{"invalid JSON", broken, []string{"--profile", "a", "--role", "r"}, 1, "not in the expected shape"},
		{"new profile without region", cliConfig, []string{"--profile", "new", "--role", "r"}, 2, "--region"},
		{"space in program", cliConfig, []string{"--profile", "ci", "--role", "r", "--ossd", "/opt/my tools/ossd"}, 1, "splits it on spaces"},
		{"bad role name", cliConfig, []string{"--profile", "ci", "--role", "r w"}, 2, "--role"},
		{"URI not http", cliConfig, []string{"--profile", "ci", "--role", "r", "--uri", "--uri-value", "file:///etc/passwd"}, 2, "http(s) URL"},
		{"no target", cliConfig, nil, 2, "aliyun-cli"},
		{"URI from a missing daemon", cliConfig, []string{"--profile", "ci", "--role", "r", "--uri", "--socket", "/nonexistent.sock"}, 1, "--uri-value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"configure"}
			if tc.args != nil {
				args = append(args, append([]string{"aliyun-cli"}, tc.args...)...)
			}
			_, stderr, code := runBin(t, []string{"HOME=" + home}, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "broken-secret") {
				t.Errorf("stderr quotes the file: %s", stderr)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.file {
				t.Errorf("file changed after a refusal")
			}
			if b, _ := filepath.Glob(path + ".*"); len(b) != 0 {
				t.Errorf("refusal left files behind: %v", b)
			}
		})
	}
}

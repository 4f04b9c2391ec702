package preflight_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/preflight"
)

const (
	sts  = "[sts]\nregion = \"cn-hangzhou\"\n"
	role = "[[role]]\nname = \"reader\"\narn = \"acs:ram::1234567890123456:role/oss-reader\"\n"
)

// users knows only "app" (uid 1000) and group "ossd" (gid 1001).
var users = access.Lookup{
	User: func(n string) (uint32, error) {
		if n == "app" {
			return 1000, nil
		}
		return 0, errors.New("unknown user " + n)
	},
	Group: func(n string) (uint32, error) {
		if n == "ossd" {
			return 1001, nil
		}
		return 0, errors.New("unknown group " + n)
	},
}

func noEnv(string) string { return "" }

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "secret", "s3cr3t\n")
	tests := []struct {
		name string
		cfg  string
		env  map[string]string
		want []string // substrings of the error; none: the config passes
	}{
		{"access key from files", "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\naccess_key_secret_file = \"secret\"\n" + sts + role, nil, nil},
		{"access key from env", "[source]\ntype = \"access_key\"\n" + sts + role,
			map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIx", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}, nil},
		{"missing secret file", "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\naccess_key_secret_file = \"nope\"\n" + sts + role, nil,
			[]string{"read access key secret", filepath.Join(dir, "nope")}},
		{"no key anywhere", "[source]\ntype = \"access_key\"\n" + sts + role, nil,
			[]string{"no access key id: set source.access_key_id_file, source.access_key_id or ALIBABA_CLOUD_ACCESS_KEY_ID", "no access key secret"}},
		{"unknown user", "[source]\ntype = \"default\"\n" + sts + role + "[role.allow]\nusers = [\"no-such-user\"]\n", nil,
			[]string{`role[0]: allow.users: unknown user "no-such-user"`}},
		{"unknown group", "[source]\ntype = \"default\"\n" + sts + role + "[role.allow]\ngroups = [\"nogroup-x\"]\n", nil,
			[]string{`unknown group "nogroup-x"`}},
		{"known user and group", "[source]\ntype = \"default\"\n" + sts + role + "[role.allow]\nusers = [\"app\"]\ngroups = [\"ossd\"]\n", nil, nil},
		{"audit dir missing", "[source]\ntype = \"default\"\n" + sts + role + "[audit]\nfile = \"/nonexistent-ossd/audit.log\"\n", nil,
			[]string{"audit.file: directory of /nonexistent-ossd/audit.log"}},
		{"audit default under systemd, dir missing", "[source]\ntype = \"default\"\n" + sts + role,
			map[string]string{"LOGS_DIRECTORY": "/nonexistent-ossd-logs"}, []string{"audit.file ($LOGS_DIRECTORY): directory of /nonexistent-ossd-logs/audit.log"}},
		{"audit default under systemd", "[source]\ntype = \"default\"\n" + sts + role, map[string]string{"LOGS_DIRECTORY": dir}, nil},
		{"oidc token file missing", "[source]\ntype = \"oidc\"\noidc_provider_arn = \"acs:ram::1234567890123456:oidc-provider/p\"\noidc_role_arn = \"acs:ram::1234567890123456:role/pod\"\noidc_token_file = \"/nonexistent-ossd/token\"\n" + sts + role, nil,
			[]string{"source.oidc_token_file"}},
		{"every problem at once", "[source]\ntype = \"access_key\"\naccess_key_secret = 123\n" + sts + role +
			"[role.allow]\nusers = [\"no-such-user\"]\n[audit]\nfile = \"/nonexistent-ossd/audit.log\"\n", nil,
			// A type error stops at config.Load's problems: the machine checks need a config.
			[]string{"line 3: source.access_key_secret: want a string, not an integer"}},
		{"every machine problem at once", "[source]\ntype = \"access_key\"\naccess_key_secret_file = \"nope\"\n" + sts + role +
			"[role.allow]\nusers = [\"no-such-user\"]\n[audit]\nfile = \"/nonexistent-ossd/audit.log\"\n", nil,
			[]string{"no access key id", "read access key secret", "unknown user", "audit.file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, dir, "ossd.toml", tc.cfg)
			getenv := func(k string) string { return tc.env[k] }
			_, err := preflight.Load(path, preflight.Options{Getenv: getenv, Lookup: users})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load accepted:\n%s", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error quotes the secret: %v", err)
			}
		})
	}
}

// NoSource (serve --dev --config FILE) skips the source, not the rest.
func TestLoadNoSource(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "ossd.toml", "[source]\ntype = \"access_key\"\n"+sts+role+"[role.allow]\nusers = [\"no-such-user\"]\n")
	_, err := preflight.Load(path, preflight.Options{Getenv: noEnv, Lookup: users, NoSource: true})
	if err == nil || strings.Contains(err.Error(), "access key") || !strings.Contains(err.Error(), "no-such-user") {
		t.Errorf("Load(NoSource) = %v, want only the unknown user", err)
	}
}

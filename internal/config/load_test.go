package config_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
)

// writeFile writes content to dir/name with exactly mode, whatever the umask.
func writeFile(t *testing.T, dir, name, content string, mode fs.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

const prettyPolicy = `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:bucket/*"]}
  ]
}
`

func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "policies/reader.json", prettyPolicy, 0o644)
	path := writeFile(t, dir, "ossd.toml", withRole("policy_file = \"policies/reader.json\"\n"), 0o600)
	l, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	r := l.Config.Roles[0]
	want := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:bucket/*"]}]}`
	if r.Policy != want {
		t.Errorf("Policy = %q, want %q", r.Policy, want)
	}
	if r.PolicyFile != pol {
		t.Errorf("PolicyFile = %q, want %q", r.PolicyFile, pol)
	}
	if got := r.Params().Policy; got != want {
		t.Errorf("Params().Policy = %q, want %q", got, want)
	}
	if l.Dir != dir {
		t.Errorf("Dir = %q, want %q", l.Dir, dir)
	}
	if len(l.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", l.Warnings)
	}
	if err := l.Config.Validate(); err != nil {
		t.Errorf("Validate() after Load = %v, want nil", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr []string
	}{
		{"missing config", nil, []string{"load config", "no such file"}},
		{"invalid config", map[string]string{"ossd.toml": ok + "bogus = 1\n"}, []string{"ossd.toml", `line 8: unknown key "role.bogus"`}},
		{"missing policy file", map[string]string{"ossd.toml": withRole("policy_file = \"nope.json\"\n")},
			[]string{"role[0].policy_file", "nope.json"}},
		{"bad policy file", map[string]string{"ossd.toml": withRole("policy_file = \"p.json\"\n"), "p.json": `{"Version":"2"}`},
			[]string{"role[0].policy_file", "p.json", `"Version": "1"`}},
		{"policy file too long", map[string]string{"ossd.toml": withRole("policy_file = \"p.json\"\n"),
			"p.json": `{"Version":"1","Statement":[{"Resource":"` + strings.Repeat("r", 2100) + `"}]}`}, []string{"want 1..2048"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content, 0o600)
			}
			l, err := config.Load(filepath.Join(dir, "ossd.toml"))
			if err == nil {
				t.Fatalf("Load = %+v, want an error", l)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadWarnings(t *testing.T) {
	inline := "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\naccess_key_secret = \"do-not-print\"\n" + sts + role
	secretFile := "[source]\ntype = \"access_key\"\naccess_key_secret_file = \"secret\"\n" + sts + role
	tests := []struct {
		name       string
		config     string
		mode       fs.FileMode
		extra      map[string]fs.FileMode // more files and their modes
		wantWarn   []string               // one warning containing each, in order
		wantNoWarn bool
	}{
		{name: "inline secret 0644", config: inline, mode: 0o644, wantWarn: []string{"inline source.access_key_secret", "mode 0644"}},
		{name: "inline secret 0640", config: inline, mode: 0o640, wantWarn: []string{"readable by group or others"}},
		{name: "inline secret 0600", config: inline, mode: 0o600, wantNoWarn: true},
		{name: "no secret 0644", config: ok, mode: 0o644, wantNoWarn: true},
		{name: "config writable", config: ok, mode: 0o666, wantWarn: []string{"writable by group or others"}},
		{name: "policy writable", config: withRole("policy_file = \"p.json\"\n"), mode: 0o600,
			extra: map[string]fs.FileMode{"p.json": 0o646}, wantWarn: []string{"role[0].policy_file", "writable"}},
		{name: "secret file readable", config: secretFile, mode: 0o600,
			extra: map[string]fs.FileMode{"secret": 0o644}, wantWarn: []string{"access_key_secret_file", "readable"}},
		{name: "secret file private", config: secretFile, mode: 0o600,
			extra: map[string]fs.FileMode{"secret": 0o400}, wantNoWarn: true},
		{name: "plain http endpoint", config: src + sts + "endpoint = \"http://127.0.0.1:9000\"\n" + role, mode: 0o600,
			wantWarn: []string{"plain http"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, mode := range tt.extra {
				writeFile(t, dir, name, prettyPolicy, mode)
			}
			l, err := config.Load(writeFile(t, dir, "ossd.toml", tt.config, tt.mode))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.wantNoWarn && len(l.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", l.Warnings)
			}
			if tt.wantWarn != nil && !hasWarning(l.Warnings, tt.wantWarn) {
				t.Errorf("Warnings = %q, want one containing %q", l.Warnings, tt.wantWarn)
			}
			for _, w := range l.Warnings {
				if strings.Contains(w, "do-not-print") {
					t.Errorf("warning %q leaks the secret", w)
				}
			}
		})
	}
}

func hasWarning(warnings, parts []string) bool {
	for _, w := range warnings {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(w, p)
		}
		if all {
			return true
		}
	}
	return false
}

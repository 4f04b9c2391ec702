package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

type accessKeyCase struct {
	name       string
	src        config.Source
	getenv     func(string) string
	wantID     string
	wantSecret ossd.Secret
	wantErr    []string
}

// accessKeyCases writes the key files into a temporary directory and
// returns it with the cases that use it.
func accessKeyCases(t *testing.T) (string, []accessKeyCase) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("id", "LTAIfile\n")
	write("secret", "  file-secret\r\n")
	write("empty", "\n")
	write("two", "LTAIfile file-secret\n")
	abs := filepath.Join(dir, "secret")
	fullEnv := env(map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "LTAIenv",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
	})
	ak := func(s config.Source) config.Source { s.Type = config.SourceAccessKey; return s }
	return dir, []accessKeyCase{
		{"files", ak(config.Source{AccessKeyIDFile: "id", AccessKeySecretFile: abs}), env(nil), "LTAIfile", "file-secret", nil},
		{"files beat inline and env", ak(config.Source{AccessKeyIDFile: "id", AccessKeySecretFile: "secret",
			AccessKeyID: "LTAIinline", AccessKeySecret: "inline-secret"}), fullEnv, "LTAIfile", "file-secret", nil},
		{"inline", ak(config.Source{AccessKeyID: "LTAIinline", AccessKeySecret: "inline-secret"}), env(nil), "LTAIinline", "inline-secret", nil},
		{"inline beats env", ak(config.Source{AccessKeyID: "LTAIinline", AccessKeySecret: "inline-secret"}), fullEnv, "LTAIinline", "inline-secret", nil},
		{"env", ak(config.Source{}), fullEnv, "LTAIenv", "env-secret", nil},
		{"mixed", ak(config.Source{AccessKeyIDFile: "id"}), fullEnv, "LTAIfile", "env-secret", nil},
		{"missing both", ak(config.Source{}), env(nil), "", "",
			[]string{"no access key id", "ALIBABA_CLOUD_ACCESS_KEY_ID", "no access key secret", "source.access_key_secret_file"}},
		{"missing secret", ak(config.Source{AccessKeyID: "LTAIinline"}), env(nil), "", "",
			[]string{"no access key secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{"missing file", ak(config.Source{AccessKeyIDFile: "nope", AccessKeySecret: "inline-secret"}), env(nil), "", "",
			[]string{"read access key id", "nope"}},
		{"empty file", ak(config.Source{AccessKeyIDFile: "empty", AccessKeySecretFile: "secret"}), env(nil), "", "",
			[]string{"is empty"}},
		{"file with two values", ak(config.Source{AccessKeyIDFile: "two", AccessKeySecretFile: "secret"}), env(nil), "", "",
			[]string{"whitespace"}},
		{"wrong type", config.Source{Type: config.SourceDefault}, fullEnv, "", "", []string{`"default"`}},
	}
}

func TestAccessKey(t *testing.T) {
	dir, tests := accessKeyCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := tt.src.AccessKey(tt.getenv, dir)
			if id != tt.wantID || secret != tt.wantSecret {
				t.Errorf("AccessKey() = %q, %q, want %q, %q", id, secret.Reveal(), tt.wantID, tt.wantSecret.Reveal())
			}
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("AccessKey() error = %v, want one containing %q", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("AccessKey() error = %q, want it to contain %q", err, w)
				}
			}
			for _, v := range []string{"LTAIfile", "file-secret", "LTAIinline", "inline-secret", "LTAIenv", "env-secret"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("AccessKey() error = %q, leaks value %q", err, v)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	const (
		provider = "acs:ram::1111111111111111:oidc-provider/ack-rrsa-c1"
		roleARN  = "acs:ram::1111111111111111:role/pod"
		token    = "/var/run/secrets/tokens/oidc-token"
	)
	rrsa := env(map[string]string{
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider,
		"ALIBABA_CLOUD_ROLE_ARN":          roleARN,
		"ALIBABA_CLOUD_OIDC_TOKEN_FILE":   token,
	})
	oidc := config.Source{Type: config.SourceOIDC}
	tests := []struct {
		name    string
		src     config.Source
		getenv  func(string) string
		want    config.Source
		wantErr []string
	}{
		{"from env", oidc, rrsa, config.Source{Type: config.SourceOIDC, OIDCProviderARN: provider, OIDCRoleARN: roleARN, OIDCTokenFile: token}, nil},
		{"config beats env", config.Source{Type: config.SourceOIDC, OIDCRoleARN: "acs:ram::2222222222222222:role/mine"}, rrsa,
			config.Source{Type: config.SourceOIDC, OIDCProviderARN: provider, OIDCRoleARN: "acs:ram::2222222222222222:role/mine", OIDCTokenFile: token}, nil},
		{"missing", oidc, env(nil), config.Source{},
			[]string{"source.oidc_provider_arn", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "source.oidc_role_arn", "source.oidc_token_file"}},
		{"bad env value", oidc, env(map[string]string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "x", "ALIBABA_CLOUD_ROLE_ARN": roleARN,
			"ALIBABA_CLOUD_OIDC_TOKEN_FILE": token}), config.Source{}, []string{"malformed OIDC provider ARN"}},
		{"not oidc", config.Source{Type: config.SourceECSRAMRole}, rrsa, config.Source{Type: config.SourceECSRAMRole}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.src.Resolve(tt.getenv)
			if got != tt.want {
				t.Errorf("Resolve() = %+v, want %+v", got, tt.want)
			}
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("Resolve() error = %v, want one containing %q", err, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Resolve() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"arn", config.ValidRoleARN, "acs:ram::1234567890123456:role/oss-reader", true},
		{"arn name chars", config.ValidRoleARN, "acs:ram::1111111111111111:role/A.b_c-9", true},
		{"arn name 64", config.ValidRoleARN, "acs:ram::1111111111111111:role/" + strings.Repeat("n", 64), true},
		{"arn name 65", config.ValidRoleARN, "acs:ram::1111111111111111:role/" + strings.Repeat("n", 65), false},
		{"arn no account", config.ValidRoleARN, "acs:ram:::role/r", false},
		{"arn user", config.ValidRoleARN, "acs:ram::1111111111111111:user/r", false},
		{"arn upper prefix", config.ValidRoleARN, "Acs:ram::1:role/r", false},
		{"arn path", config.ValidRoleARN, "acs:ram::1111111111111111:role/a/b", false},
		{"session", config.ValidSessionName, "ossd@host.example-1_x", true},
		{"session 64", config.ValidSessionName, strings.Repeat("s", 64), true},
		{"session colon", config.ValidSessionName, "a:b", false},
		{"session unicode", config.ValidSessionName, "séance", false},
		{"policy", config.ValidPolicy, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`, true},
		{"policy empty", config.ValidPolicy, "", false},
		{"policy null", config.ValidPolicy, "null", false},
		{"policy trailing garbage", config.ValidPolicy, `{"Version":"1","Statement":[{}]} x`, false},
		{"policy statement object", config.ValidPolicy, `{"Version":"1","Statement":{}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(tt.in); (err == nil) != tt.ok {
				t.Errorf("check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

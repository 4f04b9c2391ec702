package compat

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// processCreds is what a client library handed its caller.
type processCreds struct {
	AccessKeyId, AccessKeySecret, SecurityToken string
}

// TestProcess runs the real ossd binary's credential-process under each
// unmodified client that runs a credential helper, against a daemon core
// serving role "reader".
func TestProcess(t *testing.T) {
	bin := processBuild(t)
	env := testenv.New(t, testenv.Options{}, "reader")
	if errs := env.Service.Apply(context.Background(), testenv.Roles("reader")); len(errs) > 0 {
		t.Fatal(errs)
	}
	command := bin + " credential-process --role reader --socket " + processServe(t, env)
	want, err := env.Service.Credentials(t.Context(), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("clients", func(t *testing.T) { processClients(t, env, command, want) })
	t.Run("write back", func(t *testing.T) { processWriteBack(t, env, command, want) })
	t.Run("OSS v2 runs per call unless wrapped", func(t *testing.T) { processOSSRuns(t, command) })
	if n := env.STS.Calls(); n != 1 {
		t.Errorf("STS calls = %d, want 1: every helper run is answered from the daemon's cache", n)
	}
}

// processClients checks that every client ends up with exactly the
// daemon's credentials.
func processClients(t *testing.T, env *testenv.Env, command string, want ossd.Credentials) {
	clients := []struct {
		name string
		get  func(t *testing.T) (processCreds, error)
	}{
		{"credentials-go External provider", func(*testing.T) (processCreds, error) {
			p, err := providers.NewExternalCredentialsProviderBuilder().WithProcessCommand(command).Build()
			if err != nil {
				return processCreds{}, err
			}
			c, err := p.GetCredentials()
			if err != nil {
				return processCreds{}, err
			}
			return processCreds{c.AccessKeyId, c.AccessKeySecret, c.SecurityToken}, nil
		}},
		{"credentials-go CLI profile, mode External", func(t *testing.T) (processCreds, error) {
			path := processCLIConfig(t, t.TempDir(), command)
			p, err := providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(path).WithProfileName("ossd").Build()
			if err != nil {
				return processCreds{}, err
			}
			c, err := p.GetCredentials()
			if err != nil {
				return processCreds{}, err
			}
			return processCreds{c.AccessKeyId, c.AccessKeySecret, c.SecurityToken}, nil
		}},
		{"OSS v2 NewProcessCredentialsProvider (sh -c)", func(t *testing.T) (processCreds, error) {
			c, err := osscreds.NewProcessCredentialsProvider(command).GetCredentials(t.Context())
			if err != nil {
				return processCreds{}, err
			}
			if c.Expires == nil || !c.Expires.Equal(want.Expiration) {
				return processCreds{}, errors.New("OSS v2 did not read Expiration " + want.Expiration.Format(ossd.TimeLayout))
			}
			return processCreds{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken}, nil
		}},
		{"Node External provider", func(t *testing.T) (processCreds, error) {
			return processNode(t, t.TempDir(), "external", command)
		}},
		{"Node default chain, External profile in ~/.aliyun/config.json", func(t *testing.T) (processCreds, error) {
			home := t.TempDir()
			processCLIConfig(t, filepath.Join(home, ".aliyun"), command)
			return processNode(t, home, "default")
		}},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.get(t)
			if err != nil {
				t.Fatalf("%s", processRedact(err.Error(), env))
			}
			if got.AccessKeyId != want.AccessKeyID || got.AccessKeySecret != want.AccessKeySecret.Reveal() || got.SecurityToken != want.SecurityToken.Reveal() {
				t.Errorf("got AccessKeyId %s and other values than the daemon's %s", got.AccessKeyId, want.AccessKeyID)
			}
		})
	}
}

// processWriteBack shows the hazard of SPEC §4 that the docs warn
// about: credentials-go and Node write the STS secret an External profile
// returned back into the CLI config in plain text, and credentials-go drops
// keys it does not know. A CredentialsURI profile is no way out for them:
// they refuse the mode.
func processWriteBack(t *testing.T, env *testenv.Env, command string, want ossd.Credentials) {
	secret := want.AccessKeySecret.Reveal()

	path := processCLIConfig(t, t.TempDir(), command)
	p, err := providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(path).WithProfileName("ossd").Build()
	if err == nil {
		_, err = p.GetCredentials()
	}
	if err != nil {
		t.Fatal(processRedact(err.Error(), env))
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), secret) || strings.Contains(string(b), "x-keep") {
		t.Errorf("credentials-go: secret written back %v, unknown key dropped %v; the docs say both happen",
			strings.Contains(string(b), secret), !strings.Contains(string(b), "x-keep"))
	}

	home := t.TempDir()
	path = processCLIConfig(t, filepath.Join(home, ".aliyun"), command)
	if _, err := processNode(t, home, "default"); err != nil {
		t.Fatal(processRedact(err.Error(), env))
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), secret) {
		t.Errorf("Node did not write the secret back; the docs say it does")
	}

	uri := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(uri, []byte(`{"current":"ossd","profiles":[{"name":"ossd","mode":"CredentialsURI","credentials_uri":"http://127.0.0.1:9/x"}]}`), 0o600)
	p, err = providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(uri).WithProfileName("ossd").Build()
	if err == nil {
		_, err = p.GetCredentials()
	}
	if err == nil || !strings.Contains(err.Error(), "unsupported profile mode") {
		t.Errorf("credentials-go with a CredentialsURI profile: %v; the docs say it refuses the mode", err)
	}
}

// processOSSRuns counts helper runs through sh -c: OSS v2's process provider
// runs the helper on every GetCredentials, and NewCredentialsFetcherProvider
// around it (the docs' advice) runs it once while the token is fresh.
func processOSSRuns(t *testing.T, command string) {
	count := filepath.Join(t.TempDir(), "runs")
	counted := "echo run >> " + count + "; " + command
	runs := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "run")
	}
	plain := osscreds.NewProcessCredentialsProvider(counted)
	for range 3 {
		if _, err := plain.GetCredentials(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 3 {
		t.Errorf("plain provider: %d helper runs for 3 calls, want 3", n)
	}
	wrapped := osscreds.NewCredentialsFetcherProvider(osscreds.CredentialsFetcherFunc(osscreds.NewProcessCredentialsProvider(counted).GetCredentials))
	for range 3 {
		if _, err := wrapped.GetCredentials(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs() - 3; n != 1 {
		t.Errorf("wrapped provider: %d helper runs for 3 calls, want 1", n)
	}
}

// processBuild builds the ossd binary into a temporary directory.
func processBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ossd")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/ossd/ossd/cmd/ossd").CombinedOutput()
	if err != nil {
		t.Fatalf("build ossd: %v\n%s", err, out)
	}
	return bin
}

// processServe serves the socket API for env on a fresh socket.
func processServe(t *testing.T, env *testenv.Env) string {
	t.Helper()
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.New(socket.Options{Service: env.Service}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return path
}

// processCLIConfig writes dir/config.json: an aliyun CLI config whose
// current profile "ossd" runs command, beside a profile and a key the
// clients do not use.
func processCLIConfig(t *testing.T, dir, command string) string {
	t.Helper()
	cfg := map[string]any{
		"current": "ossd",
		"profiles": []map[string]any{
			{"name": "other", "mode": "AK", "access_key_id": "LTAIother", "access_key_secret": "other-secret", "region_id": "cn-hangzhou"},
			{"name": "ossd", "mode": "External", "process_command": command, "region_id": "cn-hangzhou", "x-keep": true},
		},
		"meta_path": "",
	}
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// processNode runs compat/node/external.js with HOME=home and no SDK
// variables in the environment.
func processNode(t *testing.T, home string, args ...string) (processCreds, error) {
	t.Helper()
	mdNeedNode(t)
	cmd := exec.CommandContext(t.Context(), "node", append([]string{filepath.Join("node", "external.js")}, args...)...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if u := strings.ToUpper(k); !strings.HasPrefix(u, "ALIBABA_CLOUD_") && !strings.HasPrefix(u, "ALICLOUD_") && u != "HOME" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return processCreds{}, errors.New("node: " + err.Error() + ": " + stderr.String())
	}
	var c processCreds
	if err := json.Unmarshal(out, &c); err != nil {
		return processCreds{}, errors.New("node printed something that is not JSON credentials")
	}
	return c, nil
}

// processRedact hides every secret env issued in s, for failure messages.
func processRedact(s string, env *testenv.Env) string {
	for _, sec := range env.Secrets() {
		s = strings.ReplaceAll(s, sec, ossd.Redacted)
	}
	return s
}

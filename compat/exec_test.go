package compat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkcreds "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
)

// execHelperEnv makes the test binary, run as TestExecHelper, read
// credentials through one client's default chain and print them.
const execHelperEnv = "OSSD_COMPAT_EXEC_CLIENT"

// TestExecHelper is not a test: run by `ossd exec` with execHelperEnv
// set, it is the command, reading credentials with an unmodified client's
// default chain from the environment ossd exec gave it, and printing them
// after "CREDS:" with the URI it was given.
func TestExecHelper(t *testing.T) {
	var c mdCreds
	var err error
	switch os.Getenv(execHelperEnv) {
	case "":
		t.Skip("run by TestExecClients")
	case "credentials-go":
		c, err = mdCredentialsGo(nil)
	case "alibaba-cloud-sdk-go":
		c, err = mdSDKGo(sdkcreds.NewDefaultCredentialsProvider(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		mdCreds
		URI string
	}{c, os.Getenv("ALIBABA_CLOUD_CREDENTIALS_URI")})
	fmt.Printf("CREDS:%s\n", b)
}

// execDaemon runs the real binary against a local STS with role "reader"
// and the credentials-URI listener; it returns the binary, the socket, the
// STS and its endpoint.
func execDaemon(t *testing.T) (bin, sock string, sts *localsts.Server, endpoint string) {
	t.Helper()
	bin = processBuild(t)
	sts, endpoint = testenv.StartSTS(t, "reader")
	sock = testenv.SocketPath(t)
	ln := mdListen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := testenv.SourceTOML(endpoint) + fmt.Sprintf(`
[uri]
listen = %q
state_dir = %q
[[role]]
name = "reader"
arn = %q
`, addr, filepath.Join(t.TempDir(), "state"), testenv.Params("reader").RoleARN)
	path := filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartDaemon(t, bin, sock, "serve", "--config", path, "--socket", sock)
	return bin, sock, sts, endpoint
}

// underExec runs argv under `ossd exec --role reader` with a clean
// environment (no SDK variables, an empty HOME) plus env, and returns its
// stdout.
func underExec(t *testing.T, bin, sock, home string, env []string, argv ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"exec", "--role", "reader", "--socket", sock, "--"}, argv...)...)
	cmd.Env = append(mdCleanEnv(home), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ossd exec %s: %v\n%s", argv[0], err, stderr.String())
	}
	return string(out)
}

// TestExecClients: unmodified clients whose default chain reaches
// ALIBABA_CLOUD_CREDENTIALS_URI, run under `ossd exec`, read exactly what
// the daemon issued; once each has exited, its URI answers 403.
func TestExecClients(t *testing.T) {
	bin, sock, sts, endpoint := execDaemon(t)
	home := t.TempDir()
	var uris []string
	check := func(who string, got mdCreds, uri string) {
		t.Helper()
		issued := sts.Issued()
		if len(issued) != 1 {
			t.Fatalf("%s: STS issued %d credentials, want 1: every client is served from the cache", who, len(issued))
		}
		if got.AccessKeyId != issued[0].AccessKeyID || got.AccessKeySecret != issued[0].AccessKeySecret || got.SecurityToken != issued[0].SecurityToken {
			t.Errorf("%s read credentials that are not the ones STS issued (AccessKeyId %s, want %s)", who, got.AccessKeyId, issued[0].AccessKeyID)
		}
		if !strings.Contains(uri, "/v1/exec/") {
			t.Errorf("%s ran with URI %q", who, uri)
		}
		uris = append(uris, uri)
	}
	for _, client := range []string{"credentials-go", "alibaba-cloud-sdk-go"} {
		out := underExec(t, bin, sock, home, []string{execHelperEnv + "=" + client}, os.Args[0], "-test.run=^TestExecHelper$", "-test.count=1")
		_, line, ok := strings.Cut(out, "CREDS:")
		var got struct {
			mdCreds
			URI string
		}
		if !ok || json.Unmarshal([]byte(strings.SplitN(line, "\n", 2)[0]), &got) != nil {
			t.Fatalf("%s printed no credentials (%d bytes of output)", client, len(out))
		}
		check(client+"/default chain", got.mdCreds, got.URI)
	}
	t.Run("node", func(t *testing.T) {
		mdNeedNode(t)
		out := underExec(t, bin, sock, home, nil, "sh", "-c", `printf '%s\n' "$ALIBABA_CLOUD_CREDENTIALS_URI"; exec node node/metadata.js default`)
		uri, js, _ := strings.Cut(out, "\n")
		var got mdCreds
		if err := json.Unmarshal([]byte(js), &got); err != nil {
			t.Fatalf("node printed something that is not JSON credentials")
		}
		check("node/default chain", got, uri)
	})
	t.Run("aliyun CLI", func(t *testing.T) { execAliyunCLI(t, bin, sock, sts, endpoint) })
	for _, uri := range uris {
		resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}).Get(uri)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("a URI whose command exited answers %d, want 403", resp.StatusCode)
		}
	}
}

// execAliyunCLI: the aliyun CLI, in a profile of mode CredentialsURI that
// names no URI of its own, reads ALIBABA_CLOUD_CREDENTIALS_URI. It signs an
// AssumeRole call to the local STS with what it read, and the local STS
// verifies the signature (so the secret) and the security token against
// what it issued. No registry this project's CI reaches has the CLI: the
// test runs when $OSSD_TEST_ALIYUN_CLI or PATH names an aliyun binary,
// and skips otherwise.
func execAliyunCLI(t *testing.T, bin, sock string, sts *localsts.Server, endpoint string) {
	cli := os.Getenv("OSSD_TEST_ALIYUN_CLI")
	if cli == "" {
		cli, _ = exec.LookPath("aliyun")
	}
	if cli == "" {
		t.Skip("no aliyun CLI: set OSSD_TEST_ALIYUN_CLI to a build of github.com/aliyun/aliyun-cli (3.x) to run this")
	}
	home := t.TempDir()
	profile := `{"current":"ossd","profiles":[{"name":"ossd","mode":"CredentialsURI","region_id":"cn-hangzhou"}]}`
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	issued := sts.Issued()[0] // the daemon's token for reader
	before := len(sts.CallLog())
	out := underExec(t, bin, sock, home, nil, cli, "sts", "AssumeRole", "--RoleArn", testenv.Params("reader").RoleARN,
		"--RoleSessionName", "aliyun-cli", "--endpoint", strings.TrimPrefix(endpoint, "http://"), "--insecure")
	if !strings.Contains(out, `"AssumedRoleUser"`) {
		t.Fatalf("aliyun sts AssumeRole printed no result (%d bytes)", len(out))
	}
	var signed bool
	for _, c := range sts.CallLog()[before:] {
		p := c.Params
		if p.Get("RoleSessionName") == "aliyun-cli" && c.Status == 200 && p.Get("AccessKeyId") == issued.AccessKeyID && p.Get("SecurityToken") == issued.SecurityToken {
			signed = true
		}
	}
	if !signed {
		t.Error("the local STS saw no AssumeRole from the CLI signed with the credentials the daemon issued")
	}
}

package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
)

// httpGet fetches url with no proxy and returns status and body.
func httpGet(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ossdURI runs "ossd uri" with args and returns its stdout.
func ossdURI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossdBin, append([]string{"uri"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), nil
}

var bannerMetadata = regexp.MustCompile(`metadata: http://(127\.0\.0\.1:[0-9]+) `)

// TestDevMetadata: "ossd serve --dev" serves role demo on a loopback
// metadata listener named in its banner, and "ossd uri --role demo" prints
// a URL that serves the same credentials as the socket.
func TestDevMetadata(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	waitFor(t, func() bool { return bannerMetadata.MatchString(d.Stdout.String()) })
	addr := bannerMetadata.FindStringSubmatch(d.Stdout.String())[1]
	if !strings.Contains(d.Stdout.String(), "curl http://"+addr+"/latest/meta-data/ram/security-credentials/demo") {
		t.Errorf("banner lacks the metadata curl line:\n%s", d.Stdout)
	}
	status, want := get(t, sock, "/v1/credentials/demo")
	if status != 200 || !strings.Contains(want, `"Code":"Success"`) {
		t.Fatalf("socket: %d %s", status, want)
	}
	base := "http://" + addr + "/latest/meta-data/ram/security-credentials/"
	if status, body := httpGet(t, base); status != 200 || body != "demo" {
		t.Errorf("role list = %d %q, want 200 \"demo\"", status, body)
	}
	if status, body := httpGet(t, base+"demo"); status != 200 || body != want {
		t.Errorf("metadata GET demo = %d %s\nsocket: %s", status, body, want)
	}
	if status, _ := httpGet(t, base+"demo", "X-Forwarded-For", "10.0.0.1"); status != 403 {
		t.Errorf("X-Forwarded-For: %d, want 403", status)
	}

	out, err := ossdURI(t, "--role", "demo", "--socket", sock)
	if err != nil {
		t.Fatalf("ossd uri: %v", err)
	}
	url := strings.TrimSuffix(out, "\n")
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/v1/credentials/[A-Za-z0-9_-]{43}$`).MatchString(url) {
		t.Fatalf("ossd uri printed %q", out)
	}
	if status, body := httpGet(t, url); status != 200 || body != want {
		t.Errorf("GET %s = %d %s\nsocket: %s", url, status, body, want)
	}
	if _, err := ossdURI(t, "--role", "nope", "--socket", sock); err == nil || !strings.Contains(err.Error(), "UnknownRole") {
		t.Errorf("ossd uri --role nope: %v, want UnknownRole", err)
	}
	if _, err := ossdURI(t, "--socket", sock); err == nil || !strings.Contains(err.Error(), "--role NAME is required") {
		t.Errorf("ossd uri without --role: %v", err)
	}
	d.Stop(t)
	token := url[strings.LastIndex(url, "/")+1:]
	logtest.NoSecrets(t, "daemon output", d.Stdout.String()+d.Stderr.String(), token)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetadataConfigRestart: with [[metadata]] and [uri] configured, the
// credentials URI survives a restart (its key is kept, 0600, in state_dir),
// and nothing secret reaches the daemon's output.
func TestMetadataConfigRestart(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	mdAddr, uriAddr := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret = %q
[sts]
region = "cn-hangzhou"
endpoint = %q
[log]
level = "debug"
[[role]]
name = "reader"
arn = %q
[[metadata]]
listen = %q
role = "reader"
tokens = "required"
[uri]
listen = %q
state_dir = %q
`, testenv.KeyID, testenv.KeySecret, endpoint, testenv.Params("reader").RoleARN, mdAddr, uriAddr, state)
	path := filepath.Join(dir, "ossd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := testenv.SocketPath(t)
	var urls, outputs []string
	for run := range 2 {
		d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
		out, err := ossdURI(t, "--role", "reader", "--config", path, "--socket", sock)
		if err != nil {
			t.Fatalf("run %d: ossd uri: %v", run, err)
		}
		url := strings.TrimSpace(out)
		urls = append(urls, url)
		_, want := get(t, sock, "/v1/credentials/reader")
		if status, body := httpGet(t, url); status != 200 || body != want {
			t.Errorf("run %d: GET URI = %d %s", run, status, body)
		}
		if status, _ := httpGet(t, "http://"+mdAddr+"/latest/meta-data/ram/security-credentials/reader"); status != 401 {
			t.Errorf("run %d: token-less metadata GET = %d, want 401 (tokens = required)", run, status)
		}
		d.Stop(t)
		outputs = append(outputs, d.Stdout.String(), d.Stderr.String())
	}
	if urls[0] != urls[1] || !strings.HasPrefix(urls[0], "http://"+uriAddr+"/v1/credentials/") {
		t.Errorf("URIs across a restart: %q, %q", urls[0], urls[1])
	}
	fi, err := os.Stat(filepath.Join(state, "uri.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v, want mode 0600", fi, err)
	}
	var secrets []string
	for _, is := range s.Issued() {
		secrets = append(secrets, is.AccessKeySecret, is.SecurityToken)
	}
	key, _ := os.ReadFile(filepath.Join(state, "uri.key"))
	secrets = append(secrets, testenv.KeySecret, strings.TrimSpace(string(key)), urls[0][strings.LastIndex(urls[0], "/")+1:])
	for _, o := range outputs {
		logtest.NoSecrets(t, "daemon output", o, secrets...)
	}
}

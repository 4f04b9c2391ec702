package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
)

// runOssd runs the binary with args and returns stdout, stderr and the exit
// code.
func runOssd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossdBin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	t.Fatalf("run ossd %v: %v", args, err)
	return "", "", 0
}

func TestPresignCLI(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--socket", sock)

	out, errOut, code := runOssd(t, "presign", "--socket", sock, "--role", "demo", "oss://ossd-demo/reports/q1 2030+final.pdf")
	if code != 0 {
		t.Fatalf("presign exit %d: %s", code, errOut)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil || u.Host != "ossd-demo.oss-cn-hangzhou.aliyuncs.com" || u.EscapedPath() != "/reports/q1%202030%2Bfinal.pdf" {
		t.Fatalf("URL %q: %v", out, err)
	}
	q := u.Query()
	if q.Get("x-oss-signature-version") != "OSS4-HMAC-SHA256" || q.Get("x-oss-expires") != "900" || q.Get("x-oss-security-token") == "" || len(q.Get("x-oss-signature")) != 64 {
		t.Errorf("URL lacks a V4 signature with token and 15m expiry: %s", out)
	}

	out, errOut, code = runOssd(t, "presign", "--socket", sock, "--role", "demo", "--method", "put", "--expires", "6h", "--version", "v1",
		"--header", "Content-Type: text/plain", "--header", "x-oss-meta-owner:ci", "--json", "oss://ossd-demo//lead?x#y")
	if code != 0 {
		t.Fatalf("presign --json exit %d: %s", code, errOut)
	}
	var resp struct {
		URL           string            `json:"url"`
		Method        string            `json:"method"`
		Expiration    string            `json:"expiration"`
		SignedHeaders map[string]string `json:"signed_headers"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	exp, err := time.Parse(ossd.TimeLayout, resp.Expiration)
	if err != nil || resp.Method != "PUT" || resp.SignedHeaders["Content-Type"] != "text/plain" || resp.SignedHeaders["X-Oss-Meta-Owner"] != "ci" {
		t.Errorf("--json = %+v (%v)", resp, err)
	}
	if left := time.Until(exp); left < 6*time.Hour-time.Minute || left > 6*time.Hour {
		t.Errorf("expiration %s is %s away, want 6h", resp.Expiration, left)
	}
	if !strings.HasPrefix(resp.URL, "https://ossd-demo.oss-cn-hangzhou.aliyuncs.com//lead%3Fx%23y?Expires=") {
		t.Errorf("URL = %s", resp.URL)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--role", "demo", "oss://other-bucket/k"}, 1, "BucketNotAllowed"},
		{[]string{"--role", "demo", "--method", "DELETE", "oss://ossd-demo/k"}, 1, "OperationNotAllowed"},
		{[]string{"--role", "demo", "--expires", "8d", "oss://ossd-demo/k"}, 1, "InvalidExpires"},
		{[]string{"--role", "nobody", "oss://ossd-demo/k"}, 1, "UnknownRole"},
		{[]string{"--role", "demo", "oss://Bad_Bucket/k"}, 1, "InvalidBucketName"},
		{[]string{"--role", "demo", "oss://ossd-demo/"}, 2, "want oss://bucket/key"},
		{[]string{"--role", "demo", "s3://ossd-demo/k"}, 2, "want oss://bucket/key"},
		{[]string{"oss://ossd-demo/k"}, 2, "--role NAME is required"},
		{[]string{"--role", "demo", "--header", "nocolon", "oss://ossd-demo/k"}, 2, "Name:value"},
	} {
		_, errOut, code := runOssd(t, append([]string{"presign", "--socket", sock}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("presign %v: exit %d %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}

	// The daemon's stderr carries the audit log: every URL and refusal, no
	// secret, no token, no signature.
	status, body := get(t, sock, "/v1/credentials/demo")
	var creds struct{ AccessKeySecret, SecurityToken string }
	if status != 200 || json.Unmarshal([]byte(body), &creds) != nil {
		t.Fatalf("GET demo = %d %s", status, body)
	}
	d.Stop(t)
	logs := d.Stderr.String()
	if n := strings.Count(logs, `"event":"presign"`); n != 7 {
		t.Errorf("%d audit lines, want 7 (2 URLs, 5 refusals by the daemon):\n%s", n, logs)
	}
	logtest.NoSecrets(t, "daemon stderr", logs, creds.AccessKeySecret, creds.SecurityToken, q.Get("x-oss-signature"), q.Get("x-oss-security-token"))
}

func TestPresignCLINoDaemon(t *testing.T) {
	sock := testenv.SocketPath(t)
	_, errOut, code := runOssd(t, "presign", "--socket", sock, "--role", "demo", "oss://ossd-demo/k")
	if code != 1 || !strings.Contains(errOut, "ossd is not running at "+sock) {
		t.Errorf("exit %d %q, want 1 and a message naming the socket", code, errOut)
	}
}

// TestPresignCLIKeysAndCloudBox: ossd presign takes the key of
// oss://bucket/key as it is, so a dot segment reaches the daemon's check
// and a percent-encoded one stays a literal name; --cloudbox-id signs for
// an OSS on CloudBox, and a CloudBox endpoint without one is refused.
func TestPresignCLIKeysAndCloudBox(t *testing.T) {
	sock := testenv.SocketPath(t)
	startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	presignURL := func(args ...string) *url.URL {
		t.Helper()
		out, errOut, code := runOssd(t, append([]string{"presign", "--socket", sock, "--role", "demo"}, args...)...)
		if code != 0 {
			t.Fatalf("presign %v: exit %d: %s", args, code, errOut)
		}
		u, err := url.Parse(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("presign %v: URL %q: %v", args, out, err)
		}
		return u
	}
	if u := presignURL("oss://ossd-demo/a/%2e%2e/b"); u.EscapedPath() != "/a/%252e%252e/b" {
		t.Errorf("percent-encoded dots: path %s, want the literal name /a/%%252e%%252e/b", u.EscapedPath())
	}
	u := presignURL("--cloudbox-id", "cb-123", "oss://ossd-demo/k")
	if u.Host != "ossd-demo.cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com" || !strings.HasSuffix(u.Query().Get("x-oss-credential"), "/cb-123/oss-cloudbox/aliyun_v4_request") {
		t.Errorf("--cloudbox-id: URL %s, want the CloudBox's endpoint and scope", u)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"oss://ossd-demo/a/../../b"}, `InvalidObjectName: key "a/../../b" has a ".." path segment`},
		{[]string{"oss://ossd-demo/a/./b"}, `"." path segment`},
		{[]string{"--endpoint", "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", "oss://ossd-demo/k"}, `MissingCloudBoxId: `},
		{[]string{"--cloudbox-id", "cb-1", "--endpoint", "oss-cn-hangzhou.aliyuncs.com", "oss://ossd-demo/k"}, "InvalidEndpoint: "},
		{[]string{"--cloudbox-id", "CB-1", "oss://ossd-demo/k"}, "InvalidCloudBoxId: "},
	} {
		_, errOut, code := runOssd(t, append([]string{"presign", "--socket", sock, "--role", "demo"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("presign %v: exit %d %q, want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

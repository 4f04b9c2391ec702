package metadata_test

import (
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

const creds = metadata.CredsPath + "reader"

func TestProtocol(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{})
	want := string(env.Get(testenv.Params("reader")).AppendJSON(nil))
	host := f.addr
	bareHost := "127.0.0.1"
	tests := []struct {
		name   string
		req    string
		status int
		body   string // exact, when set
		code   string // error code, when set
	}{
		{name: "role list", req: request("GET", metadata.CredsPath, host), status: 200, body: "reader"},
		{name: "role list without slash", req: request("GET", strings.TrimSuffix(metadata.CredsPath, "/"), host), status: 200, body: "reader"},
		{name: "credentials", req: request("GET", creds, host), status: 200, body: want},
		{name: "HEAD credentials", req: request("HEAD", creds, host), status: 200},
		{name: "capital Ram (ossutil)", req: request("GET", "/latest/meta-data/Ram/security-credentials/reader", host), status: 200, body: want},
		{name: "Host without port", req: request("GET", creds, bareHost), status: 200, body: want},
		{name: "no Host (HTTP/1.0)", req: "GET " + creds + " HTTP/1.0\r\n\r\n", status: 200, body: want},
		{name: "absolute form (HTTP_PROXY)", req: request("GET", "http://100.100.100.200"+creds, "100.100.100.200"), status: 200, body: want},
		{name: "absolute form role list", req: request("GET", "http://100.100.100.200:80"+metadata.CredsPath, "100.100.100.200:80"), status: 200, body: "reader"},
		{name: "query ignored", req: request("GET", creds+"?", host), status: 200, body: want},

		{name: "other role", req: request("GET", metadata.CredsPath+"writer", host), status: 404, code: metadata.CodeNotFound},
		{name: "unknown role", req: request("GET", metadata.CredsPath+"nobody", host), status: 404, code: metadata.CodeNotFound},
		{name: "role with trailing slash", req: request("GET", creds+"/", host), status: 404},
		{name: "meta-data root", req: request("GET", "/latest/meta-data/", host), status: 404},
		{name: "instance id", req: request("GET", "/latest/meta-data/instance-id", host), status: 404},
		{name: "user data", req: request("GET", "/latest/user-data", host), status: 404},
		{name: "ram prefix only", req: request("GET", "/latest/meta-data/ram/security-credentialsX", host), status: 404},
		{name: "root", req: request("GET", "/", host), status: 404},
		{name: "POST credentials", req: request("POST", creds, host, "Content-Length: 0"), status: 405, code: metadata.CodeMethod},
		{name: "GET token", req: request("GET", metadata.TokenPath, host), status: 405, code: metadata.CodeMethod},

		{name: "X-Forwarded-For", req: request("GET", creds, host, "X-Forwarded-For: 10.0.0.1"), status: 403, code: metadata.CodeForbidden},
		{name: "X-Forwarded-For on token", req: request("PUT", metadata.TokenPath, host, "X-Forwarded-For: 10.0.0.1", "X-aliyun-ecs-metadata-token-ttl-seconds: 60"), status: 403, code: metadata.CodeForbidden},
		{name: "empty X-Forwarded-For", req: request("GET", creds, host, "X-Forwarded-For:"), status: 403},
		{name: "Forwarded", req: request("GET", creds, host, "Forwarded: for=10.0.0.1"), status: 403},
		{name: "Referer", req: request("GET", creds, host, "Referer: http://127.0.0.1:8080/"), status: 403},
		{name: "Origin", req: request("GET", creds, host, "Origin: http://evil.example"), status: 403},
		{name: "DNS rebinding Host", req: request("GET", creds, "evil.example:8100"), status: 403, code: metadata.CodeForbidden},
		{name: "localhost Host", req: request("GET", creds, "localhost:8100"), status: 200, body: want},
		{name: "IPv6 Host", req: request("GET", creds, "[::1]:8100"), status: 200, body: want},

		{name: "TTL missing", req: request("PUT", metadata.TokenPath, host), status: 400, code: metadata.CodeBadTTL},
		{name: "TTL zero", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: 0"), status: 400, code: metadata.CodeBadTTL},
		{name: "TTL too long", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: 21601"), status: 400},
		{name: "TTL negative", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: -5"), status: 400},
		{name: "TTL plus", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: +5"), status: 400},
		{name: "TTL words", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: six hours"), status: 400},
		{name: "TTL twice", req: request("PUT", metadata.TokenPath, host, "X-aliyun-ecs-metadata-token-ttl-seconds: 5", "X-aliyun-ecs-metadata-token-ttl-seconds: 6"), status: 400},
		{name: "body too large", req: "PUT " + metadata.TokenPath + " HTTP/1.1\r\nHost: " + host + "\r\nX-aliyun-ecs-metadata-token-ttl-seconds: 5\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n" + strings.Repeat("x", 2048), status: 413, code: metadata.CodeTooLarge},
		{name: "token not known", req: request("GET", creds, host, "X-aliyun-ecs-metadata-token: AAAA"), status: 401, code: metadata.CodeTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, f.addr, tc.req)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.body != "" && r.body != tc.body {
				t.Errorf("body = %q, want %q", r.body, tc.body)
			}
			if tc.code != "" && !strings.Contains(r.body, `"Code":"`+tc.code+`"`) {
				t.Errorf("body = %s, want code %s", r.body, tc.code)
			}
			if tc.status != 200 {
				noSecrets(t, env, "error body", r.body)
			}
			if ct := r.header.Get("Content-Type"); tc.status == 200 && tc.body == want && ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
	if got := len(env.STS.Issued()); got != 2 {
		t.Errorf("STS issued %d tokens, want 2 (one per role, then the cache)", got)
	}
}

func TestTokenEndpoint(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{})
	// credentials-go sends an empty query: "/latest/api/token?".
	r := raw(t, f.addr, request("PUT", metadata.TokenPath+"?", f.addr, "X-aliyun-ecs-metadata-token-ttl-seconds: 21600"))
	if r.status != 200 {
		t.Fatalf("PUT token? = %d %s", r.status, r.body)
	}
	f.tokens = append(f.tokens, r.body)
	if len(r.body) != 43 || strings.ContainsAny(r.body, "\r\n \t") {
		t.Errorf("token = %q, want 43 characters and no whitespace", r.body)
	}
	if got := r.header.Get("X-Aliyun-Ecs-Metadata-Token-Ttl-Seconds"); got != "21600" {
		t.Errorf("TTL header = %q, want 21600", got)
	}
	if other := f.putToken(t, "1"); other == r.body {
		t.Error("two PUTs returned the same token")
	}
}

package metadata_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

// newEnv returns a daemon core with roles "reader" and "writer" configured
// and fetched.
func newEnv(t testing.TB) *testenv.Env {
	t.Helper()
	env := testenv.New(t, testenv.Options{}, "reader", "writer")
	if errs := env.Service.Apply(context.Background(), testenv.Roles("reader", "writer")); len(errs) > 0 {
		t.Fatal(errs)
	}
	return env
}

// serve runs h on a loopback TCP listener until the test ends and returns
// its address.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	return serveWith(t, h, nil)
}

// logger returns a debug logger whose output is checked, when the test
// ends, for the secrets env issued and every metadata token in *tokens.
func logger(t testing.TB, env *testenv.Env, tokens *[]string) *slog.Logger {
	log, buf := logtest.New(t)
	t.Cleanup(func() {
		logtest.NoSecrets(t, "metadata log", buf.String(), append(env.Secrets(), *tokens...)...)
	})
	return log
}

// fixture is a metadata listener for role "reader" on loopback.
type fixture struct {
	env    *testenv.Env
	srv    *metadata.Server
	addr   string
	tokens []string // every token issued through putToken
}

func startMetadata(t testing.TB, env *testenv.Env, o metadata.Options) *fixture {
	t.Helper()
	f := &fixture{env: env}
	o.Source, o.Role, o.Clock, o.Log = env.Service, "reader", env.Clock, logger(t, env, &f.tokens)
	f.srv = metadata.New(o)
	f.addr = serve(t, f.srv)
	return f
}

type response struct {
	status int
	header http.Header
	body   string
}

// raw sends req byte for byte on a new connection to addr and reads the
// response: the way to send what net/http clients would tidy up (absolute
// form, a Host without port, an empty query).
func raw(t testing.TB, addr, req string) response { return rawFrom(t, nil, addr, req) }

// rawFrom is raw from the local address src (nil: any).
func rawFrom(t testing.TB, src *net.TCPAddr, addr, req string) response {
	t.Helper()
	d := net.Dialer{}
	if src != nil {
		d.LocalAddr = src
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(req, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response to %.40q: %v", req, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// request builds a raw HTTP/1.1 request with the given extra header lines.
func request(method, target, host string, headers ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	if host != "" {
		b.WriteString("Host: " + host + "\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if method == http.MethodPut {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// putToken fetches a metadata token.
func (f *fixture) putToken(t testing.TB, ttl string) string {
	t.Helper()
	r := raw(t, f.addr, request("PUT", metadata.TokenPath, f.addr, "X-aliyun-ecs-metadata-token-ttl-seconds: "+ttl))
	if r.status != 200 {
		t.Fatalf("PUT token = %d %s", r.status, r.body)
	}
	f.tokens = append(f.tokens, r.body)
	return r.body
}

// get sends GET target with the given header lines.
func (f *fixture) get(t testing.TB, target string, headers ...string) response {
	t.Helper()
	return raw(t, f.addr, request("GET", target, f.addr, headers...))
}

// noSecrets fails t if body holds any secret the local STS issued or any
// of extra.
func noSecrets(t testing.TB, env *testenv.Env, what, body string, extra ...string) {
	t.Helper()
	for _, s := range append(env.Secrets(), extra...) {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("%s holds a secret: %.60q", what, body)
		}
	}
}

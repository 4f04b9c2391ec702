package socket_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// start serves the socket API for env on a fresh socket and returns a client.
func start(t testing.TB, env *testenv.Env) (*http.Client, string) {
	t.Helper()
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The rate limit is lifted (its lookups stay): benchmarks and load
	// tests would otherwise measure its 429s. TestRateLimitAnswer has it.
	srv := socket.New(socket.Options{Service: env.Service, Limit: ratelimit.New(ratelimit.Options{Rate: rate.Inf})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return testenv.UnixClient(path), path
}

func do(t testing.TB, c *http.Client, method, url string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestCredentialsBody(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, _ := start(t, env)
	status, h, body := do(t, c, "GET", "http://localhost/v1/credentials/reader", nil)
	if status != 200 {
		t.Fatalf("status = %d, body %s", status, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	issued := env.STS.Issued()[0]
	want := `{"AccessKeyId":"` + issued.AccessKeyID + `","AccessKeySecret":"` + issued.AccessKeySecret +
		`","SecurityToken":"` + issued.SecurityToken + `","Expiration":"` + issued.Expiration.UTC().Format(ossd.TimeLayout) +
		`","LastUpdated":"` + testenv.Epoch.Format(ossd.TimeLayout) + `","Code":"Success"}`
	if string(body) != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}
}

func TestErrors(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, _ := start(t, env)
	tests := []struct {
		name, method, path string
		body               io.Reader
		status             int
		code               string
	}{
		{"unknown role", "GET", "/v1/credentials/nope", nil, 404, socket.CodeUnknownRole},
		{"unknown path", "GET", "/v2/whatever", nil, 404, socket.CodeNotFound},
		{"empty role", "GET", "/v1/credentials/", nil, 404, socket.CodeNotFound},
		{"nested path", "GET", "/v1/credentials/reader/x", nil, 404, socket.CodeNotFound},
		{"wrong method", "POST", "/v1/credentials/reader", nil, 405, socket.CodeMethod},
		{"unknown query", "GET", "/v1/credentials/reader?policy=x", nil, 400, socket.CodeBadRequest},
		{"bad session", "GET", "/v1/credentials/reader?session=a%20b", nil, 400, socket.CodeBadRequest},
		{"two sessions", "GET", "/v1/credentials/reader?session=a&session=b", nil, 400, socket.CodeBadRequest},
		{"semicolon in query", "GET", "/v1/credentials/reader?session=a;x=1", nil, 400, socket.CodeBadRequest},
		{"bad escape in query", "GET", "/v1/credentials/reader?session=%zz", nil, 400, socket.CodeBadRequest},
		{"oversized body", "POST", "/v1/roles", strings.NewReader(strings.Repeat("x", 70<<10)), 413, socket.CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, c, tc.method, "http://localhost"+tc.path, tc.body)
			var e struct{ Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if status != tc.status || e.Code != tc.code {
				t.Errorf("got %d %s (%s), want %d %s", status, e.Code, e.Message, tc.status, tc.code)
			}
			if e.Message == "" {
				t.Error("empty Message")
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestOversizedHeader(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	c, _ := start(t, env)
	req, _ := http.NewRequest("GET", "http://localhost/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", resp.StatusCode)
	}
}

func TestOnDemandSession(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, _ := start(t, env)
	status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/reader?session=job42", nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	log := env.STS.CallLog()
	if got := log[len(log)-1].Params.Get("RoleSessionName"); got != "ossd-reader-job42" {
		t.Errorf("RoleSessionName = %q, want ossd-reader-job42", got)
	}
	if _, n := env.Cache.Len(); n != 1 {
		t.Errorf("on-demand sessions = %d, want 1", n)
	}
}

func TestUnavailableNamesSTSCode(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.STS.SetFault(localsts.Fault{Code: "Throttling.User"})
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, _ := start(t, env)
	status, _, body := do(t, c, "GET", "http://localhost/v1/credentials/reader", nil)
	if status != 503 || !strings.Contains(string(body), "Throttling.User") || !strings.Contains(string(body), socket.CodeUnavailable) {
		t.Errorf("got %d %s, want 503 CredentialsUnavailable naming Throttling.User", status, body)
	}
}

func TestRolesListsNoSecrets(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "writer")
	env.Service.Apply(context.Background(), testenv.Roles("reader", "writer"))
	c, _ := start(t, env)
	status, _, body := do(t, c, "GET", "http://localhost/v1/roles", nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var got struct {
		Roles []struct {
			Name, State string
			Expiration  time.Time
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Roles) != 2 || got.Roles[0].Name != "reader" || got.Roles[0].State != "ok" || got.Roles[0].Expiration.IsZero() {
		t.Errorf("roles = %+v", got.Roles)
	}
	logtest.NoSecrets(t, "/v1/roles body", string(body), env.Secrets()...)
}

func TestListenRefusals(t *testing.T) {
	dir := t.TempDir()
	t.Run("not a socket", func(t *testing.T) {
		path := dir + "/file"
		os.WriteFile(path, []byte("x"), 0o600)
		if _, err := socket.Listen(path, socket.ListenOptions{GID: -1}); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("err = %v, want not a socket", err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("file was removed: %v", err)
		}
	})
	t.Run("live socket", func(t *testing.T) {
		path := testenv.SocketPath(t)
		ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if _, err := socket.Listen(path, socket.ListenOptions{GID: -1}); !errors.Is(err, socket.ErrSocketInUse) {
			t.Errorf("err = %v, want ErrSocketInUse", err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		path := testenv.SocketPath(t)
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
		ln2, err := socket.Listen(path, socket.ListenOptions{GID: -1})
		if err != nil {
			t.Fatalf("stale socket not replaced: %v", err)
		}
		ln2.Close()
	})
	t.Run("mode", func(t *testing.T) {
		path := testenv.SocketPath(t)
		ln, err := socket.Listen(path, socket.ListenOptions{Mode: 0o660, GID: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o660 {
			t.Errorf("mode = %v, want 0660", fi.Mode().Perm())
		}
	})
}

// Issue 12, point 1: in each layout another user could replace the socket
// with his own listener. Listen refuses, naming the directory, and creates
// nothing.
func TestListenRefusesHijackableDirs(t *testing.T) {
	for _, l := range testenv.HijackLayouts(t) {
		t.Run(l.Name, func(t *testing.T) {
			_, err := socket.Listen(l.Socket, socket.ListenOptions{GID: -1})
			if err == nil || !strings.Contains(err.Error(), l.Culprit+" "+l.Want) {
				t.Fatalf("Listen(%s) = %v, want a refusal saying %q %s", l.Socket, err, l.Culprit, l.Want)
			}
			if _, err := os.Lstat(l.Socket); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a socket was created at %s: %v", l.Socket, err)
			}
		})
	}
}

// Root's /tmp-like directory is fine once the directory below it is ours,
// and a stale socket another user left there is neither used nor removed.
func TestListenStickyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files owned by another uid")
	}
	dir := testenv.PublicDir(t)
	os.Chmod(dir, fs.ModeSticky|0o777)
	ln, err := socket.Listen(dir+"/ours/ossd.sock", socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatalf("private directory under a sticky one: %v", err)
	}
	ln.Close()
	theirs := dir + "/ossd.sock"
	l, err := net.Listen("unix", theirs)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	os.Lchown(theirs, testenv.Attacker, testenv.Attacker)
	if _, err := socket.Listen(theirs, socket.ListenOptions{GID: -1}); err == nil || !strings.Contains(err.Error(), "(owner uid 4701, mode 0755, socket) is not owned by root") {
		t.Errorf("Listen over another user's stale socket = %v, want a refusal", err)
	}
	if _, err := os.Lstat(theirs); err != nil {
		t.Errorf("another user's socket was removed: %v", err)
	}
}

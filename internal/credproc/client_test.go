package credproc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// serve runs the real socket API for env on a fresh socket.
func serve(t testing.TB, env *testenv.Env) string {
	t.Helper()
	return serveLimited(t, env, nil)
}

// serveLimited is serve with the per-uid limiter lim; nil: the default.
func serveLimited(t testing.TB, env *testenv.Env, lim *ratelimit.Limiter) string {
	t.Helper()
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.New(socket.Options{Service: env.Service, Limit: lim}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return path
}

func TestClientCredentials(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "writer")
	env.Service.Apply(t.Context(), testenv.Roles("reader", "writer"))
	cl := credproc.Client{Socket: serve(t, env), Clock: env.Clock}
	got, err := cl.Credentials(t.Context(), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.Service.Credentials(t.Context(), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Credentials = %#v, want the daemon's %#v", got, want)
	}
	if _, err := cl.Credentials(t.Context(), "reader", "job-7"); err != nil {
		t.Errorf("with session: %v", err)
	}
	roles, err := cl.Roles(t.Context())
	if err != nil || strings.Join(roles, ",") != "reader,writer" {
		t.Errorf("Roles = %v, %v; want reader,writer", roles, err)
	}
}

func TestClientRefusals(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader", "writer", "denied")
	env.STS.SetFault(localsts.Fault{Code: "NoPermission", Status: 403})
	env.Service.Apply(t.Context(), testenv.Roles("reader", "writer", "denied"))
	cl := credproc.Client{Socket: serve(t, env), Clock: env.Clock}

	_, err := cl.Credentials(t.Context(), "nosuch", "")
	var ure *credproc.UnknownRoleError
	if !errors.As(err, &ure) || strings.Join(ure.Roles, ",") != "denied,reader,writer" || !strings.Contains(err.Error(), "it serves: denied, reader, writer") {
		t.Errorf("unknown role: %v, want UnknownRoleError listing denied, reader, writer", err)
	}
	_, err = cl.Credentials(t.Context(), "denied", "")
	var ae *credproc.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != "CredentialsUnavailable" || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("failing role: %v, want 503 CredentialsUnavailable naming NoPermission", err)
	}
	_, err = cl.Credentials(t.Context(), "reader", "bad/session")
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "BadRequest" {
		t.Errorf("bad session: %v, want 400 BadRequest", err)
	}
}

// TestClientEscapes: a role or session typed on the command line cannot
// end the request line or add a header: the daemon sees one request for a
// role of that literal name.
func TestClientEscapes(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		n, _ := io.ReadAtLeast(c, buf, 1) // the whole request fits one read on a local socket
		got <- string(buf[:n])
		c.Write([]byte("HTTP/1.0 404 Not Found\r\n\r\n{\"Code\":\"NotFound\",\"Message\":\"no\"}"))
	}()
	cl := credproc.Client{Socket: path}
	cl.Credentials(t.Context(), "r/../x y\r\nX-Evil: 1", "s&t=1#\n") // the answer does not matter
	req := <-got
	line, rest, _ := strings.Cut(req, "\r\n")
	if want := "GET /v1/credentials/r%2F..%2Fx%20y%0D%0AX-Evil%3A%201?session=s%26t%3D1%23%0A HTTP/1.0"; line != want {
		t.Errorf("request line = %q, want %q", line, want)
	}
	if strings.Contains(rest, "X-Evil") {
		t.Errorf("request carries an injected header:\n%s", req)
	}
}

func TestClientNotRunning(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(testenv.SocketPath(t))
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the socket file with nobody behind it
	for name, path := range map[string]string{"missing": filepath.Join(dir, "none.sock"), "stale": stale} {
		t.Run(name, func(t *testing.T) {
			_, err := (&credproc.Client{Socket: path}).Credentials(t.Context(), "reader", "")
			var nre *credproc.NotRunningError
			if !errors.As(err, &nre) {
				t.Fatalf("err = %v, want NotRunningError", err)
			}
			for _, want := range []string{path, "ossd serve --config FILE", "systemctl start ossd", "OSSD_SOCKET", "--direct"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestClientTimeout: a daemon that accepts and never answers must not hang
// the helper past its context.
func TestClientTimeout(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err = (&credproc.Client{Socket: path}).Credentials(ctx, "reader", "")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

// TestClientBadBody: a peer that answers 200 with something other than
// credentials is an error, not output.
func TestClientBadBody(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1024)
		c.Read(buf) // the request; its content does not matter here
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
	}()
	_, err = (&credproc.Client{Socket: path}).Credentials(t.Context(), "reader", "")
	if !errors.Is(err, credproc.ErrBadBody) {
		t.Errorf("err = %v, want ErrBadBody", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// Issue 12, point 1: another user's listener at the daemon's socket path
// (the four layouts) would hand out credentials of his choosing. The
// client refuses it before sending anything, and a client that expects that
// uid (--daemon-uid) reaches it.
func TestClientRefusesHijackedSocket(t *testing.T) {
	for _, l := range testenv.HijackLayouts(t) {
		t.Run(l.Name, func(t *testing.T) {
			testenv.StartAttacker(t, l)
			cl := credproc.Client{Socket: l.Socket}
			c, err := cl.Credentials(t.Context(), "reader", "")
			var wd *daemonid.WrongDaemonError
			if !errors.As(err, &wd) || wd.UID != testenv.Attacker {
				t.Fatalf("Credentials = %v, %v; want a WrongDaemonError naming uid %d", c.AccessKeyID, err, testenv.Attacker)
			}
			if _, err := cl.Roles(t.Context()); !errors.As(err, &wd) {
				t.Errorf("Roles = %v, want a WrongDaemonError", err)
			}
			// ossd exec would hand the command a URI of the listener's choosing.
			if h, err := cl.Exec(t.Context(), credproc.ExecRequest{Role: "reader", Token: credproc.NewExecToken()}); !errors.As(err, &wd) {
				t.Errorf("Exec = %v, %v; want a WrongDaemonError", h, err)
			}
			cl.Daemon = daemonid.UID(testenv.Attacker)
			if c, err := cl.Credentials(t.Context(), "reader", ""); err != nil || !strings.Contains(c.AccessKeyID, testenv.AttackerMarker) {
				t.Errorf("with --daemon-uid %d: %v, %v; want the listener's answer", testenv.Attacker, c.AccessKeyID, err)
			}
		})
	}
}

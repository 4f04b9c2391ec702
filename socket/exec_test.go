package socket_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
	"github.com/ossd/ossd/socket"
)

// execSetup is the socket API with exec registrations, and the
// credentials-URI listener that serves them, for roles "reader" (open) and
// "guarded" (uid 4901 only).
type execSetup struct {
	env   *testenv.Env
	reg   *execuri.Registry
	cl    *credproc.Client
	audit *testenv.SyncBuffer
	stop  context.CancelFunc
	done  chan struct{}
}

func startExec(t *testing.T) *execSetup {
	t.Helper()
	env := testenv.Guarded(t, 4901)
	s := &execSetup{env: env, audit: new(testenv.SyncBuffer), done: make(chan struct{})}
	al := audit.New(s.audit, env.Clock)
	env.Service.SetAudit(al, refusal.New(refusal.Options{Audit: al, Clock: env.Clock}))
	log, buf := logtest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var uri *metadata.URIServer
	s.reg = execuri.New(execuri.Options{
		Prepare: env.Service.Prepare, Audit: al, Log: log,
		URL: func(tok string) (string, bool) { return uri.ExecURL(tok), true },
	})
	uri = metadata.NewURI(metadata.URIOptions{Source: env.Service, Key: metadata.NewKey(), BaseURL: "http://" + ln.Addr().String(), Clock: env.Clock, Log: log, Grants: s.reg})
	path := testenv.SocketPath(t)
	sln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	// OnRequest wraps every response writer: the registration must still
	// be able to take its connection over.
	srv := socket.New(socket.Options{Service: env.Service, Log: log, Exec: s.reg, OnRequest: func(string, int) {}})
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	errs := make(chan error, 3)
	go func() { errs <- s.reg.Run(ctx) }()
	go func() { errs <- srv.Serve(ctx, sln) }()
	go func() { errs <- metadata.Serve(ctx, ln, uri, log, nil) }()
	go func() {
		defer close(s.done)
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}()
	t.Cleanup(func() {
		s.shutdown(t)
		logtest.NoSecrets(t, "log", buf.String(), env.Secrets()...)
		logtest.NoSecrets(t, "audit log", s.audit.String(), env.Secrets()...)
	})
	s.cl = &credproc.Client{Socket: path, Clock: env.Clock}
	return s
}

func (s *execSetup) shutdown(t *testing.T) {
	s.stop()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("servers did not stop within 20 s")
	}
}

func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestExecURILifetime: the URI serves the role's credentials from the
// registration until Revoke returns, then answers 403; the issuance is
// audited with the TCP peer, under the exec listener.
func TestExecURILifetime(t *testing.T) {
	s := startExec(t)
	h, err := s.cl.Exec(t.Context(), credproc.ExecRequest{Role: "reader", Token: credproc.NewExecToken()})
	if err != nil {
		t.Fatal(err)
	}
	status, body := getURL(t, h.URI)
	want, err := s.env.Service.Credentials(t.Context(), "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || string(want.AppendJSON(nil)) != body {
		t.Fatalf("GET exec URI = %d, not the reader body (%d bytes)", status, len(body))
	}
	if !strings.Contains(s.audit.String(), `"path":"exec tcp 127.0.0.1:`) || !strings.Contains(s.audit.String(), `"pid":`+strconv.Itoa(os.Getpid())) {
		t.Errorf("issuance not audited with the TCP peer:\n%s", s.audit.String())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := h.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := getURL(t, h.URI); status != 403 || !strings.Contains(body, metadata.CodeExecEnded) {
		t.Errorf("GET after Revoke = %d %s, want 403 %s", status, body, metadata.CodeExecEnded)
	}
	if status, _ := getURL(t, strings.Replace(h.URI, "/v1/exec/", "/v1/exec/x", 1)); status != 403 {
		t.Errorf("a token never registered = %d, want 403", status)
	}
}

// TestExecRegistrationRules: the registering process is the caller the
// rules judge; a refusal registers nothing. (The URI's own check of the
// process that connects is in cmd/ossd, where another uid presents it.)
func TestExecRegistrationRules(t *testing.T) {
	if os.Geteuid() == 4901 {
		t.Skip("the test must not run as uid 4901")
	}
	s := startExec(t)
	_, err := s.cl.Exec(t.Context(), credproc.ExecRequest{Role: "guarded", Token: credproc.NewExecToken()})
	var ae *credproc.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != socket.CodeDenied {
		t.Fatalf("registering guarded as uid %d: %v, want 403 AccessDenied", os.Geteuid(), err)
	}
	if s.reg.Len() != 0 {
		t.Error("a refused registration holds a token")
	}
}

func TestExecRefusals(t *testing.T) {
	s := startExec(t)
	c := testenv.UnixClient(s.cl.Socket)
	tests := []struct {
		name, method, upgrade, body string
		status                      int
		code                        string
	}{
		{"GET", "GET", credproc.ExecUpgrade, "", 405, socket.CodeMethod},
		{"no upgrade", "POST", "", `{"role":"reader","token":"` + credproc.NewExecToken() + `"}`, 426, socket.CodeUpgradeRequired},
		{"not JSON", "POST", credproc.ExecUpgrade, "role=reader", 400, socket.CodeBadRequest},
		{"unknown field", "POST", credproc.ExecUpgrade, `{"role":"reader","token":"x","ttl":5}`, 400, socket.CodeBadRequest},
		{"weak token", "POST", credproc.ExecUpgrade, `{"role":"reader","token":"aaaa"}`, 400, socket.CodeBadRequest},
		{"unknown role", "POST", credproc.ExecUpgrade, `{"role":"nope","token":"` + credproc.NewExecToken() + `"}`, 403, socket.CodeDenied},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://localhost/v1/exec", strings.NewReader(tt.body))
		if tt.upgrade != "" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", tt.upgrade)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), `"Code":"`+tt.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, b, tt.status, tt.code)
		}
	}
	if s.reg.Len() != 0 {
		t.Errorf("refusals left %d registrations", s.reg.Len())
	}
}

// TestExecShutdownTellsClient: a stopping daemon ends each registration
// with a reason the client can act on, and stops promptly.
func TestExecShutdownTellsClient(t *testing.T) {
	s := startExec(t)
	h, err := s.cl.Exec(t.Context(), credproc.ExecRequest{Role: "reader", Token: credproc.NewExecToken()})
	if err != nil {
		t.Fatal(err)
	}
	s.shutdown(t)
	select {
	case <-h.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the registration outlived the daemon")
	}
	if h.End() != credproc.ExecEndShutdown {
		t.Errorf("End = %q, want %q", h.End(), credproc.ExecEndShutdown)
	}
	h.Close()
}

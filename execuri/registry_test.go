package execuri_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

// fixture is a Registry in front of a real service with role "reader"
// open and role "guarded" allowed to uid 1000 only.
type fixture struct {
	env   *testenv.Env
	reg   *execuri.Registry
	audit *testenv.SyncBuffer
	stop  context.CancelFunc
	ran   chan error
}

func newFixture(t *testing.T, o execuri.Options) *fixture {
	t.Helper()
	env := testenv.Guarded(t, 1000)
	f := &fixture{env: env, audit: new(testenv.SyncBuffer), ran: make(chan error, 1)}
	log, buf := logtest.New(t)
	o.Prepare, o.Audit, o.Log = env.Service.Prepare, audit.New(f.audit, env.Clock), log
	if o.URL == nil {
		o.URL = func(tok string) (string, bool) { return "http://127.0.0.1:1" + "/v1/exec/" + tok, true }
	}
	f.reg = execuri.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	go func() { f.ran <- f.reg.Run(ctx) }()
	t.Cleanup(func() {
		f.shutdown(t)
		logtest.NoSecrets(t, "exec log", buf.String(), env.Secrets()...)
	})
	return f
}

// shutdown stops Run and waits for it; it may be called again.
func (f *fixture) shutdown(t *testing.T) {
	f.stop()
	if f.ran == nil {
		return
	}
	select {
	case err := <-f.ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		f.ran = nil
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of its context ending")
	}
}

// register registers req as uid, and drops the grant when the test ends
// (a Grant must go to Hold or Drop, or Run waits for it).
func (f *fixture) register(t *testing.T, uid uint32, req credproc.ExecRequest) error {
	t.Helper()
	g, err := f.reg.Register(as(uid), req)
	if err == nil {
		t.Cleanup(func() { f.reg.Drop(g) })
	}
	return err
}

// as returns a context whose caller is uid, this process.
func as(uid uint32) context.Context {
	return peer.NewContext(context.Background(), peer.Identity{Known: true, UID: uid, GID: uid, PID: int32(os.Getpid()), Via: "socket"})
}

func request(role string) credproc.ExecRequest {
	return credproc.ExecRequest{Role: role, Token: credproc.NewExecToken()}
}

// held is a registration held on one end of a Unix socket pair; the test
// speaks the client's side on the other.
type held struct {
	client net.Conn
	br     *bufio.Reader
	done   chan struct{} // closed when Hold returns
}

func hold(t *testing.T, f *fixture, g *execuri.Grant) *held {
	t.Helper()
	srv, cli := socketPair(t)
	h := &held{client: cli, br: bufio.NewReader(cli), done: make(chan struct{})}
	go func() { defer close(h.done); f.reg.Hold(g, srv, bufio.NewReader(srv)) }()
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != credproc.ExecUpgrade {
		t.Fatalf("upgrade answer: %v %v", resp, err)
	}
	if m := h.line(t); m.URI == "" {
		t.Fatalf("first line %+v carries no URI", m)
	}
	return h
}

func (h *held) line(t *testing.T) credproc.ExecMessage {
	t.Helper()
	h.client.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := h.br.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read exec line: %v", err)
	}
	var m credproc.ExecMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("exec line %q: %v", b, err)
	}
	return m
}

func (h *held) send(t *testing.T, m credproc.ExecMessage) {
	t.Helper()
	b, _ := json.Marshal(m)
	if _, err := h.client.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

func (h *held) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatal("Hold did not return within 20 s")
	}
}

// registerHeld registers req as uid 1000 and holds it.
func (f *fixture) registerHeld(t *testing.T, req credproc.ExecRequest) *held {
	t.Helper()
	g, err := f.reg.Register(as(1000), req)
	if err != nil {
		t.Fatal(err)
	}
	return hold(t, f, g)
}

func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", testenv.SocketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return srv, cli
}

// TestLifetime: a token serves its role from registration until the client
// closes the connection, and the audit log has the command's verified pid.
func TestLifetime(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	req := request("reader")
	req.Session = "job-1"
	g, err := f.reg.Register(as(1000), req)
	if err != nil {
		t.Fatal(err)
	}
	if role, session, ok := f.reg.Grant(req.Token); !ok || role != "reader" || session != "job-1" {
		t.Errorf("Grant = %q %q %v, want reader job-1 true", role, session, ok)
	}
	calls := f.env.STS.Calls()
	if calls != 3 {
		t.Errorf("STS calls = %d, want 3: Register warms the job-1 session", calls)
	}
	h := hold(t, f, g)
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	h.send(t, credproc.ExecMessage{PID: child.Process.Pid})
	if ack := h.line(t); ack.PID != child.Process.Pid || !ack.Verified {
		t.Errorf("ack = %+v, want pid %d verified: it is this process's child", ack, child.Process.Pid)
	}
	h.client.Close()
	h.wait(t)
	if _, _, ok := f.reg.Grant(req.Token); ok {
		t.Error("the token still serves after its connection closed")
	}
	lines := f.audit.String()
	for _, want := range []string{`"event":"exec"`, `"event":"revoke"`, `"exec_pid":` + itoa(child.Process.Pid), `"result":"ok"`} {
		if !strings.Contains(lines, want) {
			t.Errorf("audit log lacks %s:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, req.Token) {
		t.Error("the audit log holds the token")
	}
}

// TestUnverifiedPID: a pid that is not the registrant's child is recorded
// as unverified; the URI is not revoked for it.
func TestUnverifiedPID(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	req := request("reader")
	h := f.registerHeld(t, req)
	h.send(t, credproc.ExecMessage{PID: 1})
	if ack := h.line(t); ack.Verified {
		t.Errorf("pid 1 verified as a child of the test")
	}
	if _, _, ok := f.reg.Grant(req.Token); !ok {
		t.Error("an unverifiable pid revoked the URI")
	}
	if !strings.Contains(f.audit.String(), `"result":"`+execuri.ResultUnverifiedPID+`"`) {
		t.Errorf("audit log:\n%s", f.audit.String())
	}
	h.client.Close()
	h.wait(t)
}

// TestRulesDecideRegistration: the registering process is the caller; a
// uid the rules do not allow is refused and audited, and holds nothing.
func TestRulesDecideRegistration(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	req := request("guarded")
	_, err := f.reg.Register(as(4242), req)
	var denied *service.DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("Register as uid 4242 = %v, want a DeniedError", err)
	}
	if _, _, ok := f.reg.Grant(req.Token); ok || f.reg.Len() != 0 {
		t.Error("a refused registration left a token behind")
	}
	if !strings.Contains(f.audit.String(), `"result":"AccessDenied: uid 4242`) {
		t.Errorf("denial not audited:\n%s", f.audit.String())
	}
	if err := f.register(t, 1000, request("guarded")); err != nil {
		t.Errorf("Register as uid 1000: %v", err)
	}
	unknown := peer.NewContext(context.Background(), peer.Identity{})
	if _, err := f.reg.Register(unknown, request("reader")); !errors.Is(err, execuri.ErrUnidentified) {
		t.Errorf("unidentified caller: %v, want ErrUnidentified", err)
	}
}

func TestBounds(t *testing.T) {
	f := newFixture(t, execuri.Options{MaxPerUID: 2, MaxTotal: 3})
	for _, uid := range []uint32{1000, 1000, 2000} {
		if err := f.register(t, uid, request("reader")); err != nil {
			t.Fatalf("Register as %d: %v", uid, err)
		}
	}
	var full *execuri.FullError
	if _, err := f.reg.Register(as(1000), request("reader")); !errors.As(err, &full) || !full.PerUID || full.Limit != 2 {
		t.Errorf("third for uid 1000: %v, want the per-uid bound", err)
	}
	if _, err := f.reg.Register(as(3000), request("reader")); !errors.As(err, &full) || full.PerUID || full.Limit != 3 {
		t.Errorf("fourth in all: %v, want the total bound", err)
	}
	if f.reg.Len() != 3 {
		t.Errorf("Len = %d, want 3: nothing is evicted", f.reg.Len())
	}
	if !strings.Contains(f.audit.String(), execuri.ResultTooMany) {
		t.Errorf("refusals not audited:\n%s", f.audit.String())
	}
}

// TestDropFreesBound: a grant that is never held gives its place back.
func TestDropFreesBound(t *testing.T) {
	f := newFixture(t, execuri.Options{MaxPerUID: 1})
	g, err := f.reg.Register(as(1000), request("reader"))
	if err != nil {
		t.Fatal(err)
	}
	f.reg.Drop(g)
	if err := f.register(t, 1000, request("reader")); err != nil {
		t.Errorf("Register after Drop: %v", err)
	}
}

func TestRegisterRefusals(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	req := request("reader")
	if err := f.register(t, 1000, req); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Register(as(1000), req); !errors.Is(err, execuri.ErrTokenInUse) {
		t.Errorf("same token twice: %v, want ErrTokenInUse", err)
	}
	for _, tok := range []string{"", "short", strings.Repeat("A", 42), strings.Repeat("A", 43) + "=", strings.Repeat("!", 43)} {
		if _, err := f.reg.Register(as(1000), credproc.ExecRequest{Role: "reader", Token: tok}); !errors.Is(err, execuri.ErrBadToken) {
			t.Errorf("token %q: %v, want ErrBadToken", tok, err)
		}
	}
	bad := request("reader")
	bad.Session = "a b"
	if _, err := f.reg.Register(as(1000), bad); !errors.Is(err, service.ErrBadSession) {
		t.Errorf("bad session: %v, want ErrBadSession", err)
	}
	off := newFixture(t, execuri.Options{URL: func(string) (string, bool) { return "", false }})
	if _, err := off.reg.Register(as(1000), request("reader")); !errors.Is(err, execuri.ErrURIDisabled) {
		t.Errorf("[uri] disabled: %v, want ErrURIDisabled", err)
	}
}

// TestRunEndsHolds: when the daemon stops, every client is told why, its
// token dies, and Run waits for the holds; later registrations are refused.
func TestRunEndsHolds(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	req := request("reader")
	h := f.registerHeld(t, req)
	pending, err := f.reg.Register(as(1000), request("reader")) // registered, not yet held
	if err != nil {
		t.Fatal(err)
	}
	f.stop() // Run waits for pending's Hold, below
	if m := h.line(t); m.End != credproc.ExecEndShutdown {
		t.Errorf("last line %+v, want end %q", m, credproc.ExecEndShutdown)
	}
	h.wait(t)
	if _, _, ok := f.reg.Grant(req.Token); ok {
		t.Error("token serves after Run ended")
	}
	late := hold(t, f, pending) // Hold after the stop: told at once
	if m := late.line(t); m.End != credproc.ExecEndShutdown {
		t.Errorf("late hold: %+v", m)
	}
	late.wait(t)
	f.shutdown(t)
	if _, err := f.reg.Register(as(1000), request("reader")); !errors.Is(err, execuri.ErrStopping) {
		t.Errorf("Register after stop: %v, want ErrStopping", err)
	}
	if !strings.Contains(f.audit.String(), execuri.ResultStopping) {
		t.Errorf("audit:\n%s", f.audit.String())
	}
}

func TestGrantIgnoresLongTokens(t *testing.T) {
	f := newFixture(t, execuri.Options{})
	if _, _, ok := f.reg.Grant(strings.Repeat("x", 1<<20)); ok {
		t.Error("a 1 MiB token matched")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

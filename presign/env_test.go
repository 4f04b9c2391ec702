package presign_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/presign"
	"github.com/ossd/ossd/socket"
)

// env is a Signer over the real service, refresher, SDK STS client and local
// STS, on a fake clock, with its audit log and debug log captured.
type env struct {
	*testenv.Env
	signer *presign.Signer
	audit  *logtest.Buffer
	logs   *logtest.Buffer
	roles  map[string]config.Role
	limit  *ratelimit.Limiter // the socket's per-uid limit; nil: its default
}

// readerPolicy is the presign policy of the "reader" role unless a test
// gives another.
var readerPolicy = config.Presign{
	Buckets:            []string{"my-bucket", "other-bucket"},
	Prefixes:           []string{"public/", "tmp/"},
	Methods:            []string{"GET", "HEAD"},
	MaxExpires:         config.Duration(11*time.Hour + 55*time.Minute),
	MaxSessionDuration: config.Duration(12 * time.Hour),
	Region:             "cn-hangzhou",
}

// newEnv starts roles "reader" (presign policy p) and "plain" (none).
func newEnv(t testing.TB, p config.Presign) *env {
	t.Helper()
	e := &env{Env: testenv.New(t, testenv.Options{}, "reader", "plain"), audit: new(logtest.Buffer)}
	if errs := e.Service.Apply(context.Background(), testenv.Roles("reader", "plain")); len(errs) != 0 {
		t.Fatal(errs)
	}
	e.roles = map[string]config.Role{
		"reader": {Name: "reader", ARN: testenv.Params("reader").RoleARN, SessionName: "ossd-reader", Duration: config.Duration(time.Hour), Presign: p},
		"plain":  {Name: "plain", ARN: testenv.Params("plain").RoleARN, SessionName: "ossd-plain", Duration: config.Duration(time.Hour)},
	}
	e.signer = e.newSigner(t, e.audit)
	t.Cleanup(func() { e.noSecrets(t) })
	return e
}

// newSigner returns a Signer of e's roles auditing to w.
func (e *env) newSigner(t testing.TB, w io.Writer) *presign.Signer {
	log, logs := logtest.New(t)
	e.logs = logs
	return presign.New(presign.Options{
		Credentials: e.Service, Audit: audit.New(w, e.Clock), Clock: e.Clock, Log: log,
		Roles: func(name string) (config.Role, bool) { r, ok := e.roles[name]; return r, ok },
	})
}

// noSecrets fails t if an issued secret or token reached the audit or debug
// log.
func (e *env) noSecrets(t testing.TB) {
	secrets := e.Secrets()
	logtest.NoSecrets(t, "audit log", e.audit.String(), secrets...)
	logtest.NoSecrets(t, "presign debug log", e.logs.String(), secrets...)
}

// issued returns what the local STS issued for session.
func (e *env) issued(t testing.TB, session string) localsts.Issued {
	t.Helper()
	for _, is := range e.STS.Issued() {
		if is.SessionName == session {
			return is
		}
	}
	t.Fatalf("nothing issued for session %s", session)
	return localsts.Issued{}
}

// auditLines decodes the audit log.
func (e *env) auditLines(t testing.TB) []map[string]any {
	t.Helper()
	return auditLinesOf(t, e.audit)
}

// auditLinesOf decodes the audit log in b.
func auditLinesOf(t testing.TB, b *logtest.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// serve serves the socket API with the presign route on a fresh socket and
// returns a client for it.
func (e *env) serve(t testing.TB) *http.Client {
	t.Helper()
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := socket.New(socket.Options{Service: e.Service, Extra: e.signer.Routes(), Limit: e.limit})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return testenv.UnixClient(path)
}

// post sends body to POST /v1/presign and returns the status and body.
func post(t testing.TB, c *http.Client, method, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://localhost/v1/presign", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

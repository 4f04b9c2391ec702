package localsts

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/ossd/ossd/internal/clock"
)

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		fault    Fault
		check    func(t *testing.T, err error)
		logCode  string
		logState int
	}{
		{"throttling", Fault{Code: "Throttling.User"}, func(t *testing.T, err error) {
			se := serverError(t, err, 400, "Throttling.User")
			if want := "Request was denied due to user flow control."; se.Message() != want {
				t.Errorf("Message = %q, want %q", se.Message(), want)
			}
		}, "Throttling.User", 400},
		{"internal", Fault{Code: "InternalError"}, wantServerError(500, "InternalError"), "InternalError", 500},
		{"unavailable", Fault{Code: "ServiceUnavailable"}, wantServerError(503, "ServiceUnavailable"), "ServiceUnavailable", 503},
		{"no permission", Fault{Code: "NoPermission"}, wantServerError(403, "NoPermission"), "NoPermission", 403},
		{"status override", Fault{Code: "Custom", Status: 429}, wantServerError(429, "Custom"), "Custom", 429},
		{"delay and code", Fault{Code: "InternalError", Delay: 50 * time.Millisecond}, wantServerError(500, "InternalError"), "InternalError", 500},
		{"malformed", Fault{Malformed: true}, func(t *testing.T, err error) {
			var ce *sdkerrors.ClientError
			if !errors.As(err, &ce) || ce.ErrorCode() != "SDK.JsonUnmarshalError" {
				t.Fatalf("err = %v (%T), want ClientError SDK.JsonUnmarshalError", err, err)
			}
		}, CodeMalformed, 200},
		{"reset", Fault{Reset: true}, func(t *testing.T, err error) {
			var ue *url.Error
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T), want a *url.Error from the transport", err, err)
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("err = %v, want connection reset", err)
			}
			// SPEC: transport errors carry the whole signed URL.
			for _, s := range []string{"AccessKeyId=" + srcID, "Signature="} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("transport error %q lacks %q", err, s)
				}
			}
		}, CodeReset, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.srv.FailNext(1, tc.fault)
			_, err := assume(e.src(t), e.opts())
			if err == nil {
				t.Fatal("AssumeRole succeeded despite the fault")
			}
			tc.check(t, err)
			log := e.srv.CallLog()
			if len(log) != 1 || log[0].Code != tc.logCode || log[0].Status != tc.logState {
				t.Errorf("CallLog = %+v, want one call with %d %q", log, tc.logState, tc.logCode)
			}
			if e.srv.Successes() != 0 || e.srv.Calls() != 1 {
				t.Errorf("Successes, Calls = %d, %d; want 0, 1", e.srv.Successes(), e.srv.Calls())
			}
			mustAssume(t, e.src(t), e.opts()) // FailNext(1) is spent
		})
	}
}

func wantServerError(status int, code string) func(*testing.T, error) {
	return func(t *testing.T, err error) { t.Helper(); serverError(t, err, status, code) }
}

func TestDelay(t *testing.T) {
	e := newEnv(t, Config{})
	const d = 200 * time.Millisecond
	e.srv.FailNext(1, Fault{Delay: d})
	var rc clock.Real
	start := rc.Now()
	mustAssume(t, e.src(t), e.opts())
	if took := rc.Now().Sub(start); took < d {
		t.Errorf("answer took %v, want at least %v", took, d)
	}
	if e.srv.Successes() != 1 {
		t.Errorf("Successes = %d, want 1: a bare Delay must not fail the call", e.srv.Successes())
	}
}

func TestDelayCanceled(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetFault(Fault{Delay: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+e.host+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() {
		resp, err := noProxyClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	// The client leaves only once the handler has the request: a client
	// that gave up before that would leave nothing to notice.
	if !waitFor(func() bool { return e.srv.Calls() == 1 }) {
		t.Fatal("the request did not reach the handler within 30 s")
	}
	cancel()
	if err := <-answered; err == nil {
		t.Fatal("request answered during a one-minute delay")
	}
	if !waitFor(func() bool { return len(e.srv.CallLog()) == 1 }) {
		t.Fatal("the delayed handler did not notice the client left within 30 s")
	}
	if log := e.srv.CallLog(); log[0].Code != CodeCanceled {
		t.Errorf("Code = %q, want %q", log[0].Code, CodeCanceled)
	}
}

// waitFor polls cond until it holds, for up to 30 s.
func waitFor(cond func() bool) bool {
	var rc clock.Real
	for deadline := rc.Now().Add(30 * time.Second); rc.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestFailNextQueue(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.FailNext(2, Fault{Code: "InternalError"})
	e.srv.FailNext(1, Fault{Code: "Throttling.User"})
	e.srv.FailNext(0, Fault{Code: "Ignored"})
	e.srv.SetFault(Fault{Code: "ServiceUnavailable"})
	want := []string{"InternalError", "InternalError", "Throttling.User", "ServiceUnavailable", "ServiceUnavailable"}
	for i, code := range want {
		_, err := assume(e.src(t), e.opts())
		var se *sdkerrors.ServerError
		if !errors.As(err, &se) || se.ErrorCode() != code {
			t.Fatalf("call %d: err = %v, want %s", i, err, code)
		}
	}
	e.srv.ClearFault()
	mustAssume(t, e.src(t), e.opts())
	if c, s := e.srv.Calls(), e.srv.Successes(); c != len(want)+1 || s != 1 {
		t.Errorf("Calls, Successes = %d, %d; want %d, 1", c, s, len(want)+1)
	}

	e.srv.FailNext(3, Fault{Code: "InternalError"})
	e.srv.ClearFault()
	mustAssume(t, e.src(t), e.opts()) // ClearFault drops the queue too
}

func TestConcurrent(t *testing.T) {
	e := newEnv(t, Config{})
	const workers, each = 8, 5
	var wg sync.WaitGroup
	keys := make(chan string, workers*each)
	for range workers {
		c := e.src(t) // the SDK client is not safe for concurrent use
		wg.Go(func() {
			for range each {
				resp, err := assume(c, e.opts())
				if err != nil {
					t.Error(err)
					return
				}
				keys <- resp.Credentials.AccessKeyId
			}
		})
	}
	wg.Wait()
	close(keys)
	seen := make(map[string]bool)
	for k := range keys {
		if seen[k] {
			t.Errorf("AccessKeyId %s issued twice", k)
		}
		seen[k] = true
	}
	if n := workers * each; len(seen) != n || e.srv.Calls() != n || e.srv.Successes() != n || len(e.srv.Issued()) != n {
		t.Errorf("distinct keys %d, Calls %d, Successes %d, Issued %d; want %d each",
			len(seen), e.srv.Calls(), e.srv.Successes(), len(e.srv.Issued()), n)
	}
}

func TestStartClose(t *testing.T) {
	s := New(Config{})
	if err := s.Close(); err != nil {
		t.Errorf("Close before Start = %v", err)
	}
	ep, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Errorf("endpoint = %q", ep)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	resp, err := noProxyClient().Get(ep + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET / with no parameters = %d, want 400", resp.StatusCode)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	}
	if resp, err := noProxyClient().Get(ep + "/"); err == nil {
		resp.Body.Close()
		t.Error("server still answers after Close")
	}
}

// TestProxyEnv shows that the SDK would send loopback traffic through
// HTTP_PROXY, and that SetNoProxy, as the test client uses, avoids it.
func TestProxyEnv(t *testing.T) {
	e := newEnv(t, Config{})
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	mustAssume(t, e.src(t), e.opts())

	c := e.src(t)
	c.SetNoProxy("")
	if _, err := assume(c, e.opts()); err == nil || !strings.Contains(err.Error(), "proxyconnect") {
		t.Errorf("without SetNoProxy: err = %v, want a proxyconnect error", err)
	}
}

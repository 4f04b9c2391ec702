package localsts

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// Pseudo-codes recorded in Call.Code for faults that send no STS error.
const (
	CodeReset     = "<reset>"     // the connection was reset, nothing sent
	CodeMalformed = "<malformed>" // 200 with broken JSON was sent
	CodeCanceled  = "<canceled>"  // the client went away during a Hold or Delay
)

// Fault is trouble injected into the answer to a request. Its parts combine:
// Delay first, then Reset, else Malformed, else the error Code. A Fault with
// only a Delay delays a normal answer.
type Fault struct {
	// Code is the STS error code to answer with, such as "Throttling.User",
	// "InternalError" or "ServiceUnavailable".
	Code string
	// Status overrides the HTTP status that goes with Code (see the package
	// documentation; unknown codes get 400).
	Status int
	// Delay is real time to wait before answering; the wait ends early, with
	// no answer, if the client goes away.
	Delay time.Duration
	// Hold, if set, keeps the request waiting until Hold is closed (or the
	// client goes away), before Delay: a test can then do things while a
	// call is provably in flight, whatever the machine's speed.
	Hold <-chan struct{}
	// Reset closes the TCP connection with SO_LINGER 0 and no response, so
	// the client sees a reset.
	Reset bool
	// Malformed answers 200 with truncated JSON.
	Malformed bool
}

type pendingFault struct {
	n int
	f Fault
}

// FailNext gives the next n requests fault f, after any faults already queued
// by FailNext, then returns to normal service (or to SetFault's fault). It
// takes precedence over SetFault.
func (s *Server) FailNext(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, pendingFault{n: n, f: f})
}

// SetFault gives every request fault f until ClearFault.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky = &f
}

// ClearFault ends SetFault's fault and drops faults queued by FailNext.
func (s *Server) ClearFault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky = nil
	s.queue = nil
}

// nextFault reports the fault the current request gets, if any.
func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		f := s.queue[0].f
		s.queue[0].n--
		if s.queue[0].n == 0 {
			s.queue = s.queue[1:]
		}
		return f, true
	}
	if s.sticky != nil {
		return *s.sticky, true
	}
	return Fault{}, false
}

// applyFault carries out f, except for a reset, which it leaves to the
// caller (code CodeReset). done reports whether the request has been dealt
// with; if not, it gets a normal answer.
func applyFault(w http.ResponseWriter, r *http.Request, f Fault) (status int, code string, done bool) {
	if f.Hold != nil {
		select {
		case <-f.Hold:
		case <-r.Context().Done():
			return 0, CodeCanceled, true
		}
	}
	if f.Delay > 0 && !sleep(r.Context(), f.Delay) {
		return 0, CodeCanceled, true
	}
	switch {
	case f.Reset:
		return 0, CodeReset, true
	case f.Malformed:
		writeMalformed(w)
		return http.StatusOK, CodeMalformed, true
	case f.Code != "":
		e := faultError(f)
		writeError(w, e)
		return e.status, e.code, true
	}
	return 0, "", false
}

// sleep waits d of real time; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := clock.Real{}.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConn closes the connection under w without answering.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a recorder): abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Best effort: without SO_LINGER 0 the client sees EOF, not a reset,
		// which is still a transport error.
		_ = tc.SetLinger(0)
	}
	_ = conn.Close() // nothing to do about a failed close of a conn we drop
}

func faultError(f Fault) apiError {
	e := knownFault(f.Code)
	if f.Status != 0 {
		e.status = f.Status
	}
	return e
}

// knownFault returns the status and message real STS uses with code.
func knownFault(code string) apiError {
	e := apiError{status: http.StatusBadRequest, code: code, msg: "Injected fault."}
	switch code {
	case "Throttling":
		e.msg = "Request was denied due to flow control."
	case "Throttling.User":
		e.msg = "Request was denied due to user flow control."
	case "Throttling.Api":
		e.msg = "Request was denied due to api flow control."
	case "NoPermission":
		e.status = http.StatusForbidden
		e.msg = "You are not authorized to do this action. You should be authorized by RAM."
	case "InternalError":
		e.status = http.StatusInternalServerError
		e.msg = "The request processing has failed due to some unknown error, exception or failure."
	case "ServiceUnavailable":
		e.status = http.StatusServiceUnavailable
		e.msg = "The request has failed due to a temporary failure of the server."
	}
	return e
}

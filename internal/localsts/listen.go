package localsts

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serverHandle is the listener started by Start.
type serverHandle struct {
	srv    *http.Server
	done   chan struct{} // closed when Serve returns
	closed bool
}

// Start listens on addr (such as "127.0.0.1:0") and serves in a goroutine
// until Close. It returns the endpoint, "http://HOST:PORT". A Server can be
// started once.
func (s *Server) Start(addr string) (endpoint string, err error) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.srv != nil {
		return "", errors.New("localsts: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("localsts: listen: %w", err)
	}
	h := &serverHandle{
		srv:  &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	s.srv = h
	go func() {
		defer close(h.done)
		// Serve always returns an error; after Close it is ErrServerClosed,
		// and before it there is nobody to report to.
		_ = h.srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by Start, closes its connections and
// waits for the serving goroutine to end. It is idempotent, and a no-op if
// Start was not called. Handlers still running (a Delay) end when they notice
// their connection is gone.
func (s *Server) Close() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	h := s.srv
	if h == nil || h.closed {
		return nil
	}
	h.closed = true
	err := h.srv.Close()
	<-h.done
	return err
}

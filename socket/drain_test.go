package socket_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// TestServeGracefulAnswersAcceptedConnections: a connection accepted before
// the stop whose request arrives after it still gets its answer. (With
// http.Server.Shutdown alone it is closed unanswered.)
func TestServeGracefulAnswersAcceptedConnections(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := socket.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "answered") }))
	accepted := make(chan struct{}, 1)
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted <- struct{}{}
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- socket.ServeGraceful(ctx, srv, ln, 5*time.Second, nil) }()

	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-accepted
	cancel()
	// The listener closes (and, made by net.Listen, unlinks its path)
	// before ServeGraceful waits for the accepted connection.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(path); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("listener still open after the stop")
		}
	}
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("request sent after the stop began: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "answered" || !resp.Close {
		t.Errorf("response = %d %q close=%v, want 200 \"answered\" and Connection: close", resp.StatusCode, body, resp.Close)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeGraceful = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeGraceful did not return")
	}
}

// TestServeGracefulBounded: a client that connects and never sends a
// request holds the stop up for at most the timeout.
func TestServeGracefulBounded(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := socket.NewHTTPServer(http.NotFoundHandler())
	accepted := make(chan struct{}, 1)
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted <- struct{}{}
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- socket.ServeGraceful(ctx, srv, ln, 100*time.Millisecond, nil) }()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-accepted
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeGraceful = %v, want nil: cutting a silent client is a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeGraceful waited past its timeout for a silent client")
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("silent client: %v, want its connection closed by the server", err)
	}
}

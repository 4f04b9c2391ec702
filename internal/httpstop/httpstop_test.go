package httpstop_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/httpstop"
	"github.com/ossd/ossd/internal/logtest"
)

// TestStalledClientDoesNotFailShutdown: a client sends a request's headers
// and never its body, which keeps its connection active past any budget.
// Shutdown closes it, logs one line, and reports success.
func TestStalledClientDoesNotFailShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reading := make(chan struct{})
	srv := &http.Server{ReadTimeout: time.Hour, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(reading)
		io.ReadAll(r.Body) // waits for a body that never comes
	})}
	go srv.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
	<-reading
	log, buf := logtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := httpstop.Shutdown(ctx, srv, log, "test"); err != nil {
		t.Fatalf("Shutdown = %v, want nil after closing the stalled connection", err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("stalled connection: %v, want it closed by the server", err)
	}
	if n := strings.Count(buf.String(), "connections that did not finish in time were closed"); n != 1 {
		t.Errorf("%d log lines about the cut, want 1:\n%s", n, buf)
	}
}

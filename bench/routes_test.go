package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// original plays the daemon: a token PUT and a credentials GET with the
// headers ossd sends, and a body with bytes that must survive unchanged.
func original() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch {
		case r.Method == "PUT" && r.URL.Path == "/latest/api/token":
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			h.Set(tokenTTLHeader, r.Header.Get(tokenTTLHeader))
			io.WriteString(w, "tok-0123456789")
		case r.Method == "GET" && r.URL.Path == "/creds":
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			h["X-Multi"] = []string{"a", "b"}
			io.WriteString(w, "{\"AccessKeyId\":\"STS.x\",\"Odd\":\"\x00\xff\xc3\xa9<>\",\"Code\":\"Success\"}")
		default:
			http.NotFound(w, r)
		}
	})
}

// rawExchange sends req on a new connection and returns the whole response
// without its Date line.
func rawExchange(t *testing.T, addr, req string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(clock.Real{}.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^Date: [^\r]*\r\n`).ReplaceAll(resp, nil)
}

func TestLimitServesExactlyTheBytes(t *testing.T) {
	orig := httptest.NewServer(original())
	defer orig.Close()
	host := orig.Listener.Addr().String()
	routes, err := Capture(context.Background(), Target{Name: "t", Network: "tcp", Addr: host, Op: NewTokenGet(host, "/latest/api/token", "/creds")})
	if err != nil {
		t.Fatal(err)
	}
	// The limit-server process gets the routes as JSON.
	b, err := json.Marshal(routes.List())
	if err != nil {
		t.Fatal(err)
	}
	var list []Route
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("captured %d routes, want 2: %+v", len(list), list)
	}
	lim := httptest.NewServer(NewRoutes(list))
	defer lim.Close()
	for _, req := range []string{
		"PUT /latest/api/token HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n" + tokenTTLHeader + ": 21600\r\nConnection: close\r\n\r\n",
		"GET /creds HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	} {
		want := rawExchange(t, orig.Listener.Addr().String(), req)
		got := rawExchange(t, lim.Listener.Addr().String(), req)
		if !bytes.Equal(got, want) {
			t.Errorf("limit answered\n%q\nthe original\n%q", got, want)
		}
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 200 OK\r\n")) {
			t.Errorf("not a 200: %q", got)
		}
	}
	if got := rawExchange(t, lim.Listener.Addr().String(), "GET /other HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); !bytes.HasPrefix(got, []byte("HTTP/1.1 404 ")) {
		t.Errorf("unknown path: %q, want 404", got)
	}
}

func TestCaptureFailsOnAnError(t *testing.T) {
	orig := httptest.NewServer(original())
	defer orig.Close()
	host := orig.Listener.Addr().String()
	_, err := Capture(context.Background(), Target{Name: "t", Network: "tcp", Addr: host, Op: NewGet(host, "/secret-token-path", "/<token>")})
	if err == nil {
		t.Fatal("Capture of a 404 succeeded")
	}
	if bytes.Contains([]byte(err.Error()), []byte("secret-token-path")) {
		t.Errorf("error names the secret path: %v", err)
	}
}

package bench

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
)

// pipeServer answers each request read from the other end of a pipe with
// the next of responses, raw, and then hangs up.
func pipeServer(t *testing.T, responses ...string) *Conn {
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	go func() {
		defer server.Close()
		br := bufio.NewReader(server)
		for _, resp := range responses {
			for { // read one request head
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if line == "\r\n" {
					break
				}
			}
			if _, err := server.Write([]byte(resp)); err != nil {
				return
			}
		}
	}()
	return &Conn{c: client, br: bufio.NewReader(client)}
}

func TestConnKeepAlive(t *testing.T) {
	c := pipeServer(t,
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nX-A: 1\r\n\r\nabc",
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
	)
	req := NewRequest("GET", "localhost", "/x")
	for _, want := range []string{"hello", "abc"} {
		body, err := c.Do(req, nil)
		if err != nil || string(body) != want {
			t.Fatalf("Do = %q, %v; want %q", body, err, want)
		}
	}
	body, err := c.Do(req, nil)
	if !errors.Is(err, ErrStatus) || string(body) != "busy" || !strings.Contains(err.Error(), "503") {
		t.Errorf("Do on a 503 = %q, %v; want ErrStatus and the body", body, err)
	}
}

func TestConnRefusesWhatItCannotParse(t *testing.T) {
	tests := []struct {
		name, resp string
	}{
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{"bad status line", "HTTP/1.1 OK\r\n\r\n"},
		{"not HTTP", "SSH-2.0-x\r\n\r\n"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n"},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := pipeServer(t, tc.resp)
			if _, err := c.Do(NewRequest("GET", "h", "/"), nil); err == nil {
				t.Errorf("Do accepted %q", tc.resp)
			}
		})
	}
}

func TestNewRequest(t *testing.T) {
	r := NewRequest("PUT", "127.0.0.1:80", "/latest/api/token", "X-A", "1")
	want := "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:80\r\nContent-Length: 0\r\nX-A: 1\r\n"
	if string(r.head) != want {
		t.Errorf("head = %q, want %q", r.head, want)
	}
}

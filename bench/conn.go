package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
)

// Conn is one keep-alive HTTP/1.1 client connection. It writes requests
// encoded in advance and parses only what it needs of the response (status,
// Content-Length, the headers a Recorder wants), so that the load generator
// costs the shared CPU as little as it can.
type Conn struct {
	c     net.Conn
	br    *bufio.Reader
	body  []byte // the last response body; reused
	wbuf  []byte // the request being written; reused
	extra []byte // extra header lines an Op builds; reused

	// Record, if set, sees every response in full (see Capture).
	Record func(req *Request, status int, header map[string][]string, body []byte)
}

// Dial connects to network ("unix" or "tcp") address addr.
func Dial(ctx context.Context, network, addr string) (*Conn, error) {
	return dial(ctx, network, addr, nil)
}

func dial(ctx context.Context, network, addr string, local net.Addr) (*Conn, error) {
	d := net.Dialer{LocalAddr: local}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s %s: %w", network, addr, err)
	}
	return &Conn{c: c, br: bufio.NewReaderSize(c, 8<<10), body: make([]byte, 0, 4<<10)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Request is an HTTP/1.1 request encoded once and sent many times.
type Request struct {
	Method, Path string
	// Name stands for Path in errors; a credentials-URI path is a secret.
	Name string
	head []byte // request line and headers up to, not including, the final CRLF
}

// NewRequest encodes a request without a body. header values must not
// contain CR or LF.
func NewRequest(method, host, path string, header ...string) *Request {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if method == "PUT" || method == "POST" {
		b.WriteString("Content-Length: 0\r\n")
	}
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	return &Request{Method: method, Path: path, Name: path, head: b.Bytes()}
}

// ErrStatus is returned by Do for a response other than 200.
var ErrStatus = errors.New("unexpected status")

// Do sends req, with extra as additional raw header lines ("Name: value\r\n"),
// and reads the response. It returns the body, valid until the next call,
// and an error wrapping ErrStatus for a status other than 200.
func (c *Conn) Do(req *Request, extra []byte) ([]byte, error) {
	c.wbuf = append(append(append(c.wbuf[:0], req.head...), extra...), "\r\n"...)
	if _, err := c.c.Write(c.wbuf); err != nil {
		return nil, fmt.Errorf("write %s %s: %w", req.Method, req.Name, err)
	}
	status, header, n, err := c.readHead()
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", req.Method, req.Name, err)
	}
	if cap(c.body) < n {
		c.body = make([]byte, n)
	}
	c.body = c.body[:n]
	if _, err := io.ReadFull(c.br, c.body); err != nil {
		return nil, fmt.Errorf("read body of %s %s: %w", req.Method, req.Name, err)
	}
	if c.Record != nil {
		c.Record(req, status, header, c.body)
	}
	if status != 200 {
		return c.body, fmt.Errorf("%s %s: %w %d", req.Method, req.Name, ErrStatus, status)
	}
	return c.body, nil
}

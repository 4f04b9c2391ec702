package httpresp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrMalformed is wrapped by every error about a response that is not
	// well-formed HTTP/1.x, or uses what this reader refuses.
	ErrMalformed = errors.New("malformed HTTP response")
	// ErrTooLarge is wrapped by errors about a head or body over its limit.
	ErrTooLarge = errors.New("HTTP response too large")
)

// Limits bound what Read accepts. A zero field takes its default.
type Limits struct {
	Head   int   // status line and header fields together, in bytes; default 16 KiB
	Fields int   // header fields; default 100
	Body   int64 // body bytes; default 1 MiB
}

// Defaults of [Limits].
const (
	DefaultHead   = 16 << 10
	DefaultFields = 100
	DefaultBody   = 1 << 20
)

// Head is a response's status line and what its header fields say of its
// body.
type Head struct {
	Minor  int   // HTTP/1.Minor: 0 or 1
	Status int   // 100..599
	Length int64 // Content-Length; -1 when not given
}

// Response is what Read returns.
type Response struct {
	Minor  int // HTTP/1.Minor: 0 or 1
	Status int // 200..599
	Body   []byte
}

// Read reads one response from r: the status line, the header fields, and
// the body, of Content-Length bytes if the response gives it, else up to
// the end of r. A 204 or 304 answer has no body; an informational one
// (1xx) is an error, as no request of this client asks for one. Read does
// not read past the body, so trailing bytes stay in r.
func Read(r *bufio.Reader, lim Limits) (Response, error) {
	h, err := ReadHead(r, lim)
	if err != nil {
		return Response{}, err
	}
	body, err := ReadBody(r, h, lim)
	if err != nil {
		return Response{}, err
	}
	return Response{Minor: h.Minor, Status: h.Status, Body: body}, nil
}

// ReadHead reads the status line and header fields of a response from r,
// and no more: after a 101 Switching Protocols, what follows in r is the
// new protocol's.
func ReadHead(r *bufio.Reader, lim Limits) (Head, error) {
	lim = lim.withDefaults()
	hr := head{r: r, left: lim.Head}
	line, err := hr.line()
	if err != nil {
		return Head{}, fmt.Errorf("status line: %w", err)
	}
	h, err := parseStatus(line)
	if err != nil {
		return Head{}, fmt.Errorf("status line: %w", err)
	}
	if h.Length, err = hr.fields(lim.Fields); err != nil {
		return Head{}, err
	}
	return h, nil
}

// ReadBody reads the body of the response whose head is h from r (see
// Read).
func ReadBody(r io.Reader, h Head, lim Limits) ([]byte, error) {
	switch {
	case h.Status < 200:
		return nil, fmt.Errorf("%w: informational status %d, which no request of this client asks for", ErrMalformed, h.Status)
	case h.Status == 204 || h.Status == 304:
		return nil, nil
	}
	return readBody(r, h.Length, lim.withDefaults().Body)
}

func (l Limits) withDefaults() Limits {
	if l.Head <= 0 {
		l.Head = DefaultHead
	}
	if l.Fields <= 0 {
		l.Fields = DefaultFields
	}
	if l.Body <= 0 {
		l.Body = DefaultBody
	}
	return l
}

// parseStatus parses "HTTP/1.x NNN[ reason]".
func parseStatus(line []byte) (Head, error) {
	const prefix = "HTTP/1."
	if len(line) < len(prefix)+5 || string(line[:len(prefix)]) != prefix {
		return Head{}, fmt.Errorf("%w: not HTTP/1.0 or HTTP/1.1", ErrMalformed)
	}
	var resp Head
	switch line[len(prefix)] {
	case '0':
	case '1':
		resp.Minor = 1
	default:
		return Head{}, fmt.Errorf("%w: not HTTP/1.0 or HTTP/1.1", ErrMalformed)
	}
	rest := line[len(prefix)+1:] // " NNN[ reason]"
	if rest[0] != ' ' || !digits(rest[1:4]) || (len(rest) > 4 && rest[4] != ' ') {
		return Head{}, fmt.Errorf("%w: no three-digit status code", ErrMalformed)
	}
	resp.Status = int(rest[1]-'0')*100 + int(rest[2]-'0')*10 + int(rest[3]-'0')
	if resp.Status < 100 || resp.Status > 599 {
		return Head{}, fmt.Errorf("%w: status code %d out of range", ErrMalformed, resp.Status)
	}
	if len(rest) > 4 && !text(rest[5:]) {
		return Head{}, fmt.Errorf("%w: control character in the reason phrase", ErrMalformed)
	}
	return resp, nil
}

// readBody reads length bytes, or up to EOF when length is -1.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w: Content-Length %d over the limit of %d bytes", ErrTooLarge, length, limit)
	}
	if length >= 0 {
		body := make([]byte, length)
		if n, err := io.ReadFull(r, body); err != nil {
			return nil, fmt.Errorf("body: %d of %d bytes: %w", n, length, eof(err))
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: body over the limit of %d bytes", ErrTooLarge, limit)
	}
	return body, nil
}

// eof turns io.EOF into io.ErrUnexpectedEOF: a response that ends early is
// never complete.
func eof(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 18 || !digits(v) {
		return 0, fmt.Errorf("%w: Content-Length is not a decimal number of bytes", ErrMalformed)
	}
	return strconv.ParseInt(string(v), 10, 64)
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// text reports whether b holds no control character but HTAB.
func text(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

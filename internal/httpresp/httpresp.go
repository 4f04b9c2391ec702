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

// Response is what Read returns.
type Response struct {
	Minor  int // HTTP/1.Minor: 0 or 1
	Status int // 200..599
	Body   []byte
}

// Read reads one response from r: the status line, the header fields, and
// the body, of Content-Length bytes if the response gives it, else up to
// the end of r. A 204 or 304 answer has no body. Read does not read past
// the body, so trailing bytes stay in r.
func Read(r *bufio.Reader, lim Limits) (Response, error) {
	lim = lim.withDefaults()
	h := head{r: r, left: lim.Head}
	line, err := h.line()
	if err != nil {
		return Response{}, fmt.Errorf("status line: %w", err)
	}
	resp, err := parseStatus(line)
	if err != nil {
		return Response{}, fmt.Errorf("status line: %w", err)
	}
	length, err := h.fields(lim.Fields)
	if err != nil {
		return Response{}, err
	}
	if resp.Status == 204 || resp.Status == 304 {
		return resp, nil
	}
	resp.Body, err = readBody(r, length, lim.Body)
	return resp, err
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
func parseStatus(line []byte) (Response, error) {
	const prefix = "HTTP/1."
	if len(line) < len(prefix)+5 || string(line[:len(prefix)]) != prefix {
		return Response{}, fmt.Errorf("%w: not HTTP/1.0 or HTTP/1.1", ErrMalformed)
	}
	var resp Response
	switch line[len(prefix)] {
	case '0':
	case '1':
		resp.Minor = 1
	default:
		return Response{}, fmt.Errorf("%w: not HTTP/1.0 or HTTP/1.1", ErrMalformed)
	}
	rest := line[len(prefix)+1:] // " NNN[ reason]"
	if rest[0] != ' ' || !digits(rest[1:4]) || (len(rest) > 4 && rest[4] != ' ') {
		return Response{}, fmt.Errorf("%w: no three-digit status code", ErrMalformed)
	}
	resp.Status = int(rest[1]-'0')*100 + int(rest[2]-'0')*10 + int(rest[3]-'0')
	switch {
	case resp.Status < 100 || resp.Status > 599:
		return Response{}, fmt.Errorf("%w: status code %d out of range", ErrMalformed, resp.Status)
	case resp.Status < 200:
		return Response{}, fmt.Errorf("%w: informational status %d, which no request of this client asks for", ErrMalformed, resp.Status)
	}
	if len(rest) > 4 && !text(rest[5:]) {
		return Response{}, fmt.Errorf("%w: control character in the reason phrase", ErrMalformed)
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

package httpresp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// head reads the lines of a response head within a byte budget.
type head struct {
	r    *bufio.Reader
	left int // bytes the rest of the head may take
	n    int // lines read
}

// line returns the next line without its CRLF. The slice is valid until
// the next read.
func (h *head) line() ([]byte, error) {
	h.n++
	var long []byte // a line longer than the reader's buffer
	for {
		frag, err := h.r.ReadSlice('\n')
		if h.left -= len(frag); h.left < 0 {
			return nil, fmt.Errorf("%w: head over its limit", ErrTooLarge)
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, frag...)
			continue
		default:
			return nil, fmt.Errorf("line %d: %w", h.n, eof(err))
		}
		if long != nil {
			frag = append(long, frag...)
		}
		if len(frag) < 2 || frag[len(frag)-2] != '\r' {
			return nil, fmt.Errorf("%w: line %d does not end in CRLF", ErrMalformed, h.n)
		}
		frag = frag[:len(frag)-2]
		if bytes.IndexByte(frag, '\r') >= 0 {
			return nil, fmt.Errorf("%w: bare CR in line %d", ErrMalformed, h.n)
		}
		return frag, nil
	}
}

// fields reads the header fields up to the empty line and returns the
// Content-Length, or -1 if none was given.
func (h *head) fields(max int) (int64, error) {
	length := int64(-1)
	for i := 0; ; i++ {
		line, err := h.line()
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		if len(line) == 0 {
			return length, nil
		}
		if i == max {
			return 0, fmt.Errorf("%w: more than %d header fields", ErrTooLarge, max)
		}
		name, value, err := field(line)
		if err != nil {
			return 0, fmt.Errorf("header line %d: %w", h.n, err)
		}
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("%w: Transfer-Encoding, which this reader does not read (send HTTP/1.0 requests)", ErrMalformed)
		case !bytes.EqualFold(name, []byte("Content-Length")):
		case length >= 0:
			return 0, fmt.Errorf("%w: Content-Length given twice", ErrMalformed)
		default:
			if length, err = parseLength(value); err != nil {
				return 0, err
			}
		}
	}
}

// field splits "name: value", with optional whitespace around the value.
func field(line []byte) (name, value []byte, err error) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		if line[0] == ' ' || line[0] == '\t' {
			return nil, nil, fmt.Errorf("%w: folded header line", ErrMalformed)
		}
		return nil, nil, fmt.Errorf("%w: header line without a field name and colon", ErrMalformed)
	}
	name = line[:i]
	for _, c := range name {
		if !isToken(c) {
			return nil, nil, fmt.Errorf("%w: invalid character in a header field name", ErrMalformed)
		}
	}
	value = bytes.Trim(line[i+1:], " \t")
	if !text(value) {
		return nil, nil, fmt.Errorf("%w: control character in a header field value", ErrMalformed)
	}
	return name, value, nil
}

// isToken reports whether c may appear in a field name (RFC 9110 tchar).
func isToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

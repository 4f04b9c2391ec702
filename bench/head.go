package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
)

// errChunked: every response measured here fits in net/http's buffer, so
// it carries a Content-Length; a chunked one means something else answered.
var errChunked = errors.New("response without Content-Length")

// readHead reads a status line and headers, and returns the status, the
// headers when a Recorder is set (nil otherwise), and the body length.
func (c *Conn) readHead() (status int, header map[string][]string, length int, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, nil, 0, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, 0, fmt.Errorf("malformed status line %q", line)
	}
	if c.Record != nil {
		header = make(map[string][]string)
	}
	length = -1
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, 0, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		if len(name) == len("Content-Length") && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, 0, fmt.Errorf("malformed Content-Length %q", value)
			}
		}
		if header != nil {
			k := textproto.CanonicalMIMEHeaderKey(string(name))
			header[k] = append(header[k], string(value))
		}
	}
	if length < 0 {
		return 0, nil, 0, errChunked
	}
	return status, header, length, nil
}

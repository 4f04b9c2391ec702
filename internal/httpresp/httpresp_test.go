package httpresp_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/httpresp"
)

const body = `{"Code":"Success"}`

var readTests = []struct {
	name   string
	in     string
	status int
	body   string
	err    error // wrapped; nil means success
}{
	{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n" + body, 200, body, nil},
	{"http/1.0 close-delimited", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body, 200, body, nil},
	{"no reason phrase", "HTTP/1.1 503\r\nContent-Length: 2\r\n\r\n{}", 503, "{}", nil},
	{"empty reason phrase", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", 404, "", nil},
	{"case and whitespace", "HTTP/1.1 200 OK\r\ncontent-LENGTH:\t 2 \r\nX-Empty:\r\n\r\n{}", 200, "{}", nil},
	{"stops at content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n", 200, "{}", nil},
	{"no body for 204", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nabcd", 204, "", nil},
	{"obs-text in a value", "HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", 200, "", nil},
	{"empty", "", 0, "", io.ErrUnexpectedEOF},
	{"head cut off", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", 0, "", io.ErrUnexpectedEOF},
	{"body cut off", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + body[:5], 0, "", io.ErrUnexpectedEOF},
	{"http/2", "HTTP/2 200 OK\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"http/1.2", "HTTP/1.2 200 OK\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"not http", "SSH-2.0-OpenSSH_9.6\r\n", 0, "", httpresp.ErrMalformed},
	{"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"status out of range", "HTTP/1.1 600 Nope\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"informational", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"control in reason", "HTTP/1.1 200 O\x00K\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 0, "", httpresp.ErrMalformed},
	{"bare CR", "HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"folded line", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"no colon", "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"control in value", "HTTP/1.1 200 OK\r\nX-A: b\x01c\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"transfer-encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 0, "", httpresp.ErrMalformed},
	{"two content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"negative content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"signed content-length", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"list content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"huge content-length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}", 0, "", httpresp.ErrMalformed},
	{"content-length over limit", "HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n", 0, "", httpresp.ErrTooLarge},
	{"close-delimited over limit", "HTTP/1.0 200 OK\r\n\r\n" + strings.Repeat("x", 1025), 0, "", httpresp.ErrTooLarge},
	{"head over limit", "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("x", 2048) + "\r\n\r\n", 0, "", httpresp.ErrTooLarge},
	{"too many fields", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 9) + "\r\n", 0, "", httpresp.ErrTooLarge},
}

// testLimits are small so that the limits are reached in the table.
var testLimits = httpresp.Limits{Head: 1024, Fields: 8, Body: 1024}

func TestRead(t *testing.T) {
	for _, tc := range readTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := httpresp.Read(bufio.NewReaderSize(strings.NewReader(tc.in), 16), testLimits)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Read = %+v, %v; want an error wrapping %v", got, err, tc.err)
				}
				return
			}
			if err != nil || got.Status != tc.status || string(got.Body) != tc.body {
				t.Fatalf("Read = %d %q, %v; want %d %q", got.Status, got.Body, err, tc.status, tc.body)
			}
		})
	}
}

// TestReadHeadSwitchingProtocols: after a 101 the head is all that is
// read; the new protocol's bytes stay in the reader. Read refuses the same
// answer, which has no body to return.
func TestReadHeadSwitchingProtocols(t *testing.T) {
	const in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ossd-exec/1\r\nConnection: Upgrade\r\n\r\n{\"uri\":\"x\"}\n"
	br := bufio.NewReader(strings.NewReader(in))
	h, err := httpresp.ReadHead(br, testLimits)
	if err != nil || h.Status != 101 || h.Minor != 1 || h.Length != -1 {
		t.Fatalf("ReadHead = %+v, %v; want 101, HTTP/1.1, no length", h, err)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "{\"uri\":\"x\"}\n" {
		t.Errorf("left in the reader: %q", rest)
	}
	if _, err := httpresp.Read(bufio.NewReader(strings.NewReader(in)), testLimits); !errors.Is(err, httpresp.ErrMalformed) {
		t.Errorf("Read = %v, want an error wrapping ErrMalformed", err)
	}
	h, err = httpresp.ReadHead(bufio.NewReader(strings.NewReader("HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\n")), testLimits)
	if err != nil || h.Status != 404 || h.Length != 7 {
		t.Errorf("ReadHead = %+v, %v; want 404 with length 7", h, err)
	}
}

// TestReadLongLine reads a line longer than the bufio.Reader's buffer.
func TestReadLongLine(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 500) + "\r\nContent-Length: 2\r\n\r\n{}"
	got, err := httpresp.Read(bufio.NewReaderSize(strings.NewReader(in), 16), testLimits)
	if err != nil || string(got.Body) != "{}" {
		t.Fatalf("Read = %q, %v; want {}", got.Body, err)
	}
}

// TestErrorsQuoteNothing checks that no error repeats bytes of the
// response, which may hold a secret.
func TestErrorsQuoteNothing(t *testing.T) {
	const secret = "SeCrEtToKeN"
	for _, in := range []string{
		"HTTP/1.1 " + secret + "\r\n\r\n",
		"HTTP/1.1 200 " + secret + "\x00\r\n\r\n",
		"HTTP/1.1 200 OK\r\n" + secret + "\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-" + secret + " : a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: " + secret + "\x01\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: " + secret + "\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + secret,
	} {
		_, err := httpresp.Read(bufio.NewReader(strings.NewReader(in)), testLimits)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Read(%q) = %v; want an error without the response's bytes", in, err)
		}
	}
}

// FuzzRead checks, for any input: Read never panics and never returns a
// body over its limit; whatever Read accepts, net/http's ReadResponse
// accepts too, with the same status code and body (Read is never more
// lenient than the standard reader); and a response Read returns, written
// out again with a Content-Length, reads back the same.
func FuzzRead(f *testing.F) {
	for _, tc := range readTests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := httpresp.Read(bufio.NewReaderSize(strings.NewReader(string(in)), 16), testLimits)
		if err != nil {
			return
		}
		if int64(len(got.Body)) > testLimits.Body || got.Status < 200 || got.Status > 599 {
			t.Fatalf("Read accepted status %d with %d body bytes", got.Status, len(got.Body))
		}
		std, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(in))), nil)
		if err != nil {
			t.Fatalf("Read accepted what net/http refuses (%v)", err)
		}
		stdBody, err := io.ReadAll(std.Body)
		if err != nil || std.StatusCode != got.Status || string(stdBody) != string(got.Body) {
			t.Fatalf("Read = %d %q; net/http = %d %q, %v", got.Status, got.Body, std.StatusCode, stdBody, err)
		}
		out := "HTTP/1." + strconv.Itoa(got.Minor) + " " + strconv.Itoa(got.Status) + " X\r\nContent-Length: " +
			strconv.Itoa(len(got.Body)) + "\r\n\r\n" + string(got.Body)
		again, err := httpresp.Read(bufio.NewReader(strings.NewReader(out)), testLimits)
		if err != nil || again.Status != got.Status || again.Minor != got.Minor || string(again.Body) != string(got.Body) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, got)
		}
	})
}

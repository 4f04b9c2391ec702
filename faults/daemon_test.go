package faults_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

var ossdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ossd-faults-")
	if err != nil {
		panic(err)
	}
	if ossdBin, err = testenv.BuildOssd(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	needs.Report(os.Stderr)
	os.RemoveAll(dir)
	os.Exit(code)
}

// startDev runs the real daemon in --dev mode on a fresh socket.
func startDev(t *testing.T) *testenv.Daemon {
	sock := testenv.SocketPath(t)
	return testenv.StartDaemon(t, ossdBin, sock, "serve", "--dev", "--socket", sock)
}

// dialUnix connects, retrying while the listen backlog is full: a Unix
// socket refuses with EAGAIN rather than queueing beyond the backlog.
func dialUnix(path string) (net.Conn, int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for retries := 0; ; retries++ {
		c, err := net.Dial("unix", path)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline) {
			return c, retries, err
		}
		time.Sleep(time.Millisecond)
	}
}

// rawGet sends one request on c and reads the whole response.
func rawGet(c net.Conn, path string) (*http.Response, []byte, error) {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUnsent, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// errUnsent marks a request that could not be written: the daemon never
// received it.
var errUnsent = errors.New("request not sent")

// errKind names a client-side error without its addresses.
func errKind(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	}
	return "other"
}

// TestTenThousandConnections opens 10,000 connections at once, each asking
// for credentials as soon as it is connected, and keeps every one open
// until all have been answered.
func TestTenThousandConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 10000
	d := startDev(t)
	var (
		seen    tally
		retries atomic.Int64
		resent  atomic.Int64
		open    sync.WaitGroup // until every connection has its answer
		done    sync.WaitGroup
	)
	open.Add(n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			// A client starved of CPU for longer than the header timeout
			// (5 s) after connecting finds its silent connection closed when
			// it finally writes, or, if its write lands just as the daemon
			// gives up, closed or reset before any answer; the daemon never
			// read its request, so it connects again, as a real client
			// would. A request written within 4 s of connecting gets no
			// second chance.
			var (
				c    net.Conn
				resp *http.Response
				b    []byte
				err  error
			)
			for attempt := 0; attempt < 3; attempt++ {
				var r int
				c, r, err = dialUnix(d.Socket)
				dialed := time.Now()
				retries.Add(int64(r))
				if err != nil {
					break
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				late := time.Since(dialed) >= 4*time.Second
				resp, b, err = rawGet(c, "/v1/credentials/demo")
				cut := resp == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET))
				if !errors.Is(err, errUnsent) && !(late && cut) {
					break
				}
				resent.Add(1)
			}
			if c == nil {
				seen.add("not connected")
				open.Done()
				return
			}
			switch {
			case err != nil:
				seen.add("unanswered: " + errKind(err))
			case resp.StatusCode == 200 && strings.Contains(string(b), `"Code":"Success"`) && strings.Contains(string(b), `"SecurityToken":"`):
				seen.add("ok")
			default:
				seen.add(fmt.Sprintf("status %d", resp.StatusCode))
			}
			open.Done()
			open.Wait() // hold the connection until all are answered
		}()
	}
	done.Wait()
	// Every connection stayed open until the last answer: all n were open at once.
	t.Logf("%d connections open at once (%d connect retries on a full backlog, %d requests sent again after the daemon closed a connection that stayed silent past the header timeout): %s",
		n, retries.Load(), resent.Load(), &seen)
	if seen.get("ok") != n {
		t.Errorf("want all %d answered with credentials: %s", n, &seen)
	}
}

// TestSlowloris opens connections that dribble a request header one byte
// at a time, and one whose body never arrives. Other callers must still be
// served, and the daemon must close the slow connections once the header
// timeout (5 s) or the body timeout (10 s) has passed.
func TestSlowloris(t *testing.T) {
	d := startDev(t)
	const slow = 200
	// Each slow client reports how long its connection lasted and whether
	// it ended by the daemon closing it, not by the client's own deadline.
	type ending struct {
		took     time.Duration
		byDaemon bool
	}
	closed := make(chan ending, slow+1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range slow {
		c, _, err := dialUnix(d.Socket)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			start := time.Now()
			for _, b := range []byte("GET /v1/credentials/demo HTTP/1.1\r\nHost: localhost\r\nX-Slow: ") {
				if _, err := c.Write([]byte{b}); err != nil || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			_, err := io.Copy(io.Discard, c) // returns when the daemon closes the connection
			closed <- ending{time.Since(start), !errors.Is(err, os.ErrDeadlineExceeded)}
		}()
	}
	// One more sends its headers, then a body that never comes.
	body, _, err := dialUnix(d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	go func() {
		start := time.Now()
		io.WriteString(body, "POST /v1/presign HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"role\":")
		body.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err := io.Copy(io.Discard, body)
		closed <- ending{time.Since(start), !errors.Is(err, os.ErrDeadlineExceeded)}
	}()
	var seen tally
	client := testenv.UnixClient(d.Socket)
	for range 50 {
		check(t, client, "http://localhost/v1/credentials/demo", time.Now, &seen)
		time.Sleep(20 * time.Millisecond)
	}
	var longest time.Duration
	held := 0
	for range slow + 1 {
		e := <-closed
		longest = max(longest, e.took)
		if !e.byDaemon {
			held++
		}
	}
	t.Logf("with %d slowloris connections: %s; slow connections closed after at most %v", slow, &seen, longest.Round(100*time.Millisecond))
	if seen.get("ok") != 50 {
		t.Errorf("callers not served during slowloris: %s", &seen)
	}
	if held != 0 {
		t.Errorf("%d slow connections were still open after 60 s; want the daemon to close them at the 5 s header timeout or the 10 s body timeout", held)
	}
}

// TestOversizedRequests sends a huge body, header and path; each gets a
// clear refusal and the daemon keeps serving.
func TestOversizedRequests(t *testing.T) {
	d := startDev(t)
	tests := []struct {
		name   string
		req    string
		status int
	}{
		{"1 MiB body", "POST /v1/roles HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("a", 1<<20), 413},
		{"100 KiB header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431},
		{"64 KiB path", "GET /v1/credentials/" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dialUnix(d.Socket)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			go io.WriteString(c, tc.req) // the daemon may answer before reading it all
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	var seen tally
	check(t, testenv.UnixClient(d.Socket), "http://localhost/v1/credentials/demo", time.Now, &seen)
	if seen.get("ok") != 1 {
		t.Errorf("daemon not serving after oversized requests: %s", &seen)
	}
}

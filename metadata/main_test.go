package metadata_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"testing"
)

// TestMain doubles as a helper process when METADATA_TEST_HELPER is set:
// "client" requests over new connections, "hold" holds many fds.
func TestMain(m *testing.M) {
	switch os.Getenv("METADATA_TEST_HELPER") {
	case "client":
		os.Exit(newConnClient(os.Stdin, os.Stdout))
	case "hold":
		os.Exit(holdFDs(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// newConnClient reads lines "N ADDR PATH" and makes N GET requests for
// PATH, each on a new connection to ADDR, then answers "ok" (or the first
// failure).
func newConnClient(in io.Reader, out io.Writer) int {
	s := bufio.NewScanner(in)
	buf := make([]byte, 16<<10)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) != 3 {
			fmt.Fprintln(out, "error: bad command", s.Text())
			continue
		}
		n, _ := strconv.Atoi(f[0])
		req := []byte("GET " + f[2] + " HTTP/1.1\r\nHost: " + f[1] + "\r\nConnection: close\r\n\r\n")
		msg := "ok"
		for range n {
			if err := getOnce(f[1], req, buf); err != nil {
				msg = "error: " + err.Error()
				break
			}
		}
		fmt.Fprintln(out, msg)
	}
	return 0
}

// getOnce sends req on a new connection and reads the answer to its end.
func getOnce(addr string, req, buf []byte) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		return err
	}
	n, err := io.ReadFull(c, buf[:12])
	if err != nil {
		return err
	}
	if string(buf[9:n]) != "200" {
		return fmt.Errorf("status %q", buf[:n])
	}
	for {
		if _, err := c.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// holdFDs waits for a line N, opens N fds on /dev/null (raising
// RLIMIT_NOFILE to N+64, within the hard limit the parent gave it), prints
// its pid, and waits for stdin to close.
func holdFDs(in io.Reader, out io.Writer) int {
	r := bufio.NewReader(in)
	line, _ := r.ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(line))
	lim := unix.Rlimit{Cur: uint64(n + 64), Max: uint64(n + 64)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(out, "setrlimit:", err)
		return 1
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		fmt.Fprintln(out, "open:", err)
		return 1
	}
	for range n - 1 {
		if _, err := unix.Dup(fd); err != nil {
			fmt.Fprintln(out, "dup:", err)
			return 1
		}
	}
	fmt.Fprintln(out, os.Getpid())
	r.ReadString('\n')
	return 0
}

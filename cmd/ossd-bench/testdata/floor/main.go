// Command floor is a benchmark fixture, not part of ossd: the least a Go
// credential helper can do. It sends one raw HTTP/1.0 request for a role's
// credentials over the daemon's Unix socket and copies the answer's body to
// stdout, with no flag parsing, no JSON, no checks. ossd-bench helper times
// the real helpers against it.
//
//	floor SOCKET ROLE
package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		os.Stderr.WriteString("usage: floor SOCKET ROLE\n")
		os.Exit(2)
	}
	c, err := net.Dial("unix", os.Args[1])
	if err != nil {
		fail(err)
	}
	if _, err := io.WriteString(c, "GET /v1/credentials/"+os.Args[2]+" HTTP/1.0\r\nHost: localhost\r\n\r\n"); err != nil {
		fail(err)
	}
	r := bufio.NewReader(c)
	for { // skip the status line and headers
		line, err := r.ReadSlice('\n')
		if err != nil {
			fail(err)
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	if _, err := io.Copy(os.Stdout, r); err != nil {
		fail(err)
	}
}

func fail(err error) {
	os.Stderr.WriteString("floor: " + err.Error() + "\n")
	os.Exit(1)
}

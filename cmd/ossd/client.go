package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/reach"
)

// daemonSocket is the daemon's socket as a client command found it.
type daemonSocket struct {
	path   string
	want   daemonid.Want // the uid, besides root, the daemon must run as
	chosen string        // what chose it: "--socket", "$OSSD_SOCKET", "[server] socket" or "the default"
}

// findSocket picks the socket like [paths.Socket] and says what chose it.
func findSocket(flag, configured string, want daemonid.Want) daemonSocket {
	s := daemonSocket{path: paths.Socket(flag, configured, os.Getenv, os.Geteuid()), want: want}
	switch {
	case flag != "":
		s.chosen = "--socket"
	case os.Getenv(paths.EnvSocket) != "":
		s.chosen = "$" + paths.EnvSocket
	case configured != "":
		s.chosen = "[server] socket"
	default:
		s.chosen = "the default"
	}
	return s
}

// do sends req to the daemon, checked to run as root or s.want's uid
// (daemonHTTP), and returns its status and body. A failure to get an
// answer is a *daemonid.WrongDaemonError, or a *reach.Error that says why
// and what to do.
func (s daemonSocket) do(req *http.Request, timeout time.Duration) (int, []byte, error) {
	resp, err := daemonHTTP(s.path, s.want, timeout).Do(req)
	if wd, ok := errors.AsType[*daemonid.WrongDaemonError](err); ok {
		return 0, nil, wd
	}
	if err != nil {
		return 0, nil, reach.Diagnose(s.path, s.chosen, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, reach.Diagnose(s.path, s.chosen, fmt.Errorf("read answer: %w", err))
	}
	return resp.StatusCode, body, nil
}

// get fetches path from the daemon; any status but 200 is an error.
func (s daemonSocket) get(ctx context.Context, path string, timeout time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+path, nil)
	if err != nil {
		return nil, err
	}
	code, body, err := s.do(req, timeout)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("ossd answered %d %s: %s", code, http.StatusText(code), oneLine(string(body), 300))
	}
	return body, nil
}

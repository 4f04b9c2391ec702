package main

import (
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ossd/ossd/internal/daemonid"
)

// daemonFlag adds --daemon-uid to fs and returns what it names, read after
// fs.Parse.
func daemonFlag(fs *flag.FlagSet) func() (daemonid.Want, error) {
	v := fs.String("daemon-uid", "", "uid the daemon must run as, besides root (overrides $"+daemonid.EnvUID+"; default: your own uid)")
	return func() (daemonid.Want, error) {
		w, err := daemonid.Parse(*v, os.Getenv)
		if err != nil {
			return w, usageError{err.Error()}
		}
		return w, nil
	}
}

// daemonHTTP returns an HTTP client for the daemon's socket at sock. Each
// connection is checked before anything is sent on it: a socket served by
// neither root nor want's uid is refused (daemonid).
func daemonHTTP(sock string, want daemonid.Want, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", sock)
			if err != nil {
				return nil, err
			}
			if err := daemonid.Check(c.(*net.UnixConn), sock, want); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		},
		DisableKeepAlives: true,
	}}
}

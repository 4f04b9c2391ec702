package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// buildOssd builds cmd/ossd into dir. It needs the go command and the
// module, as go run ./cmd/ossd-bench has.
func buildOssd(ctx context.Context, dir string) (string, error) {
	return build(ctx, dir, "cmd/ossd", "ossd")
}

// build builds the package at path pkg of the module into dir/name,
// static (CGO_ENABLED=0), as every documented install line builds it.
// Extra arguments go to go build before the package, such as -tags.
func build(ctx context.Context, dir, pkg, name string, extra ...string) (string, error) {
	bin := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", bin}, extra...), "github.com/ossd/ossd/"+pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./%s (run ossd-bench from the module, or give the binary's flag): %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// daemon is the ossd being measured.
type daemon struct {
	socket   string
	metadata string // host:port of the metadata listener for the role; "" if none
	uri      string // the role's credentials URI; "" if none
	proc     *proc  // nil for a daemon this command did not start
}

// startDev runs bin serve --dev on a socket in dir and waits until it
// answers and has printed its banner.
func startDev(ctx context.Context, bin, dir, role string) (*daemon, error) {
	d := &daemon{socket: filepath.Join(dir, "ossd.sock")}
	p, err := startProc(bin, []string{"serve", "--dev", "--socket", d.socket}, nil, filepath.Join(dir, "ossd.stderr"))
	if err != nil {
		return nil, err
	}
	d.proc = p
	banner, err := p.waitOutput(ctx, "Stop with Ctrl-C", 30*time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	d.metadata = metadataAddr(banner, role)
	return d, nil
}

// metadataLine matches the dev banner's line for a metadata listener:
// "  metadata: http://127.0.0.1:8100 (ECS metadata compatible, role demo)".
var metadataLine = regexp.MustCompile(`(?m)^\s*metadata:\s+http://(\S+)\s+\(.*\brole (\S+)\)`)

// metadataAddr returns the address of the banner's metadata listener for
// role, or "".
func metadataAddr(banner, role string) string {
	for _, m := range metadataLine.FindAllStringSubmatch(banner, -1) {
		if m[2] == role {
			return m[1]
		}
	}
	return ""
}

// unixClient is an HTTP client for set-up requests on the Unix socket (not
// for measuring).
func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(ctx context.Context, socket string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	c := unixClient(socket)
	for {
		if b, err := socketGet(ctx, c, "/healthz"); err == nil && len(b) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ossd on %s did not answer /healthz within %v", socket, within)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// socketGet GETs path on the socket and returns the body of a 200 answer.
func socketGet(ctx context.Context, c *http.Client, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://localhost"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return body, nil
}

// lookupURI asks the daemon for role's credentials URI (what ossd uri
// prints); "" when the endpoint is disabled.
func lookupURI(ctx context.Context, socket, role string) string {
	body, err := socketGet(ctx, unixClient(socket), "/v1/uri/"+url.PathEscape(role))
	if err != nil {
		return ""
	}
	var v struct {
		URI string `json:"uri"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return v.URI
}

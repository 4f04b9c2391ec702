package credproc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/httpresp"
)

// maxBody bounds a body the client reads from the daemon or a cache file; a
// credentials body is about 1.5 KiB, a role list a few KiB.
const maxBody = 1 << 20

// limits bound what the client reads from the daemon.
var limits = httpresp.Limits{Head: 16 << 10, Body: maxBody}

// Client asks a running daemon for credentials over its Unix socket. It
// speaks just enough HTTP for one request per connection (an HTTP/1.0
// request, read with [httpresp.Read]): a helper that runs once per
// credential lookup gains nothing from a connection pool, and linking
// net/http would cost every run its start-up.
type Client struct {
	Socket string        // path of the daemon's socket
	Clock  clock.Clock   // nil = real; checks that what the daemon hands out has not expired
	Daemon daemonid.Want // who must serve the socket besides root; the zero Want means this process's own uid
}

// Credentials returns the credentials of role (and session suffix, if not
// empty) from the daemon.
//
// Errors: [*NotRunningError] when nothing answers on the socket,
// [*daemonid.WrongDaemonError] when a listener of another uid does,
// [*PermissionError] when the socket refuses this user, [*UnknownRoleError]
// (listing the roles the daemon has) for a role it does not serve,
// [*APIError] for any other refusal, and [ErrBadBody] for an answer that is
// not a credentials body.
func (c *Client) Credentials(ctx context.Context, role, session string) (ossd.Credentials, error) {
	path := "/v1/credentials/" + escape(role)
	if session != "" {
		path += "?session=" + escape(session)
	}
	status, body, err := c.get(ctx, path)
	if err != nil {
		return ossd.Credentials{}, err
	}
	if status != 200 {
		return ossd.Credentials{}, c.refusal(ctx, role, status, body)
	}
	creds, err := ParseBody(body)
	if err != nil {
		return ossd.Credentials{}, fmt.Errorf("daemon at %s: %w", c.Socket, err)
	}
	if now := clock.Or(c.Clock).Now(); !creds.Expiration.After(now) {
		return ossd.Credentials{}, fmt.Errorf("daemon at %s handed out credentials that expired at %s (local time %s): check the clocks",
			c.Socket, creds.Expiration.Format(ossd.TimeLayout), now.UTC().Format(ossd.TimeLayout))
	}
	return creds, nil
}

// Roles returns the names of the roles the daemon serves, in its order.
func (c *Client) Roles(ctx context.Context) ([]string, error) {
	status, body, err := c.get(ctx, "/v1/roles")
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, apiError(status, body)
	}
	var v struct {
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("daemon at %s: role list: %s", c.Socket, jsonProblem(err))
	}
	names := make([]string, 0, len(v.Roles))
	for _, r := range v.Roles {
		names = append(names, r.Name)
	}
	return names, nil
}

// refusal turns a non-200 answer to a credentials request into an error.
func (c *Client) refusal(ctx context.Context, role string, status int, body []byte) error {
	ae := apiError(status, body)
	if ae.Code != "UnknownRole" {
		return ae
	}
	roles, err := c.Roles(ctx)
	return &UnknownRoleError{Role: role, Socket: c.Socket, Roles: roles, listErr: err}
}

// get makes one GET request and returns the status and body.
func (c *Client) get(ctx context.Context, path string) (int, []byte, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) // unblocks reads and writes
	defer stop()
	// HTTP/1.0: the answer is never chunked, and the daemon closes the
	// connection after it.
	req := "GET " + path + " HTTP/1.0\r\nHost: localhost\r\nUser-Agent: ossd-credential-process\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, nil, c.exchangeError(ctx, err)
	}
	resp, err := httpresp.Read(bufio.NewReaderSize(conn, 4096), limits)
	if err != nil {
		return 0, nil, c.exchangeError(ctx, err)
	}
	return resp.Status, resp.Body, nil
}

// escape percent-encodes every byte of s but the unreserved ones (RFC 3986
// ALPHA, DIGIT, "-", ".", "_", "~"), which is right in a path segment and in
// a query value alike: nothing a user types can end the request line.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// dial connects to the daemon's socket and checks, before a byte is sent,
// who serves it (daemonid). Every request of the Client, the held
// connection of [Client.Exec] included, connects through it.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Socket)
	if err != nil {
		return nil, dialError(c.Socket, err)
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("connect to %s: not a Unix socket connection", c.Socket)
	}
	if err := daemonid.Check(sc, c.Socket, c.Daemon); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func (c *Client) exchangeError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("daemon at %s did not answer in time: %w", c.Socket, ctx.Err())
	}
	return fmt.Errorf("daemon at %s: %w", c.Socket, err)
}

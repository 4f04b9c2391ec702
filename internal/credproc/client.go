package credproc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/daemonid"
)

// maxBody bounds what the client reads from the daemon; a credentials body
// is about 1 KiB, a role list a few KiB.
const maxBody = 1 << 20

// Client asks a running daemon for credentials over its Unix socket. It
// speaks just enough HTTP/1.1 for one request per connection: a helper that
// runs once per credential lookup gains nothing from a connection pool and
// pays for setting one up.
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
	path := "/v1/credentials/" + url.PathEscape(role)
	if session != "" {
		path += "?session=" + url.QueryEscape(session)
	}
	status, body, err := c.get(ctx, path)
	if err != nil {
		return ossd.Credentials{}, err
	}
	if status != http.StatusOK {
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
	if status != http.StatusOK {
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
	req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ossd-credential-process\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, nil, c.exchangeError(ctx, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4096), nil)
	if err != nil {
		return 0, nil, c.exchangeError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, c.exchangeError(ctx, err)
	}
	return resp.StatusCode, body, nil
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

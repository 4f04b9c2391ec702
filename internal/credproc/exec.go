package credproc

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/httpresp"
)

// The registration of an exec-scoped credentials URI (ossd exec) on the
// socket API. The client sends POST ExecPath with an [ExecRequest] body and
// "Upgrade: ExecUpgrade"; the daemon answers 101 Switching Protocols, or an
// ordinary JSON error. After the 101 both sides exchange [ExecMessage]
// lines on the same connection, which stays open for as long as the URI
// lives: the daemon revokes the URI the moment the connection closes.
const (
	ExecPath        = "/v1/exec"
	ExecUpgrade     = "ossd-exec/1"
	ExecEndShutdown = "shutdown" // ExecMessage.End: the daemon is stopping; register again with the next one
)

// ExecRequest is the body of a registration.
type ExecRequest struct {
	Role    string `json:"role"`
	Session string `json:"session,omitempty"`
	Token   string `json:"token"` // from NewExecToken
}

// ExecMessage is one line of a held registration. The daemon's first line
// carries URI; the client then reports the command's PID once, and the
// daemon answers with PID and Verified; the daemon's last line, if any,
// carries End.
type ExecMessage struct {
	URI      string `json:"uri,omitempty"`
	PID      int    `json:"pid,omitempty"`
	Verified bool   `json:"verified,omitempty"` // the pid is a child of the registering process
	End      string `json:"end,omitempty"`
}

// execTokenBytes is the entropy of an exec token: 256 bits.
const execTokenBytes = 32

// NewExecToken returns a fresh exec token: 256 bits from crypto/rand,
// base64url without padding (43 characters).
func NewExecToken() string {
	var b [execTokenBytes]byte
	rand.Read(b[:]) // never fails on Linux; it would crash the program rather than return
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidExecToken reports whether s has the form NewExecToken returns.
func ValidExecToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(execTokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == execTokenBytes
}

// ExecHold is a registration the daemon accepted. The URI lives until
// Close, until this process exits, or until the daemon ends it ([ExecHold.Done]).
type ExecHold struct {
	URI  string
	conn net.Conn
	acks chan ExecMessage
	done chan struct{}
	end  string // the daemon's End line; set before done is closed
	once sync.Once
}

// Exec registers req with the daemon and returns the held registration.
// Errors are those of [Client.Credentials].
func (c *Client) Exec(ctx context.Context, req ExecRequest) (*ExecHold, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	h, err := c.upgrade(ctx, conn, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return h, nil
}

func (c *Client) upgrade(ctx context.Context, conn net.Conn, req ExecRequest) (*ExecHold, error) {
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode exec registration: %w", err)
	}
	head := "POST " + ExecPath + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ossd-exec\r\nConnection: Upgrade\r\nUpgrade: " + ExecUpgrade +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		return nil, c.exchangeError(ctx, err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := httpresp.ReadHead(br, limits)
	if err != nil {
		return nil, c.exchangeError(ctx, err)
	}
	if resp.Status != 101 { // Switching Protocols
		b, err := httpresp.ReadBody(br, resp, limits)
		if err != nil {
			return nil, c.exchangeError(ctx, err)
		}
		return nil, c.refusal(ctx, req.Role, resp.Status, b)
	}
	first, err := readExecLine(br)
	if err != nil || first.URI == "" {
		return nil, fmt.Errorf("daemon at %s: the exec registration did not say its URI: %w", c.Socket, errors.Join(err, ErrBadBody))
	}
	if !stop() && ctx.Err() != nil {
		return nil, c.exchangeError(ctx, ctx.Err())
	}
	conn.SetDeadline(time.Time{}) // it may have been set just as stop ran; the hold has none
	h := &ExecHold{URI: first.URI, conn: conn, acks: make(chan ExecMessage, 1), done: make(chan struct{})}
	go h.read(br)
	return h, nil
}

// readExecLine reads one JSON line of at most 4 KiB.
func readExecLine(br *bufio.Reader) (ExecMessage, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return ExecMessage{}, err
	}
	var m ExecMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return ExecMessage{}, fmt.Errorf("exec line: %s", jsonProblem(err))
	}
	return m, nil
}

// read takes the daemon's lines until the connection ends.
func (h *ExecHold) read(br *bufio.Reader) {
	defer close(h.done)
	for {
		m, err := readExecLine(br)
		if err != nil {
			return
		}
		switch {
		case m.End != "":
			h.end = m.End
		case m.PID != 0:
			select {
			case h.acks <- m:
			default: // an answer nobody asked for
			}
		}
	}
}

// Started reports the command's pid to the daemon, for its audit log, and
// returns whether the daemon verified that pid is a child of this process.
// The caller must not reap the command before Started returns, or the pid
// could name another process by the time the daemon looks.
func (h *ExecHold) Started(ctx context.Context, pid int) (verified bool, err error) {
	line, err := json.Marshal(ExecMessage{PID: pid})
	if err != nil {
		return false, err
	}
	if _, err := h.conn.Write(append(line, '\n')); err != nil {
		return false, fmt.Errorf("report the command's pid: %w", err)
	}
	select {
	case m := <-h.acks:
		return m.Verified && m.PID == pid, nil
	case <-h.done:
		return false, errors.New("report the command's pid: the daemon closed the registration")
	case <-ctx.Done():
		return false, fmt.Errorf("report the command's pid: %w", ctx.Err())
	}
}

// Done is closed when the daemon ends the registration or the connection
// breaks; the URI no longer answers then.
func (h *ExecHold) Done() <-chan struct{} { return h.done }

// End returns, once Done is closed, the daemon's reason for ending the
// registration (ExecEndShutdown), or "" if the connection just closed (a
// daemon that crashed or was killed).
func (h *ExecHold) End() string {
	select {
	case <-h.done:
		return h.end
	default:
		return ""
	}
}

// Revoke ends the registration and waits, until ctx ends, for the daemon
// to confirm that the URI is revoked (it closes its side once it has), then
// closes the connection.
func (h *ExecHold) Revoke(ctx context.Context) error {
	if cw, ok := h.conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		select {
		case <-h.done:
		case <-ctx.Done():
		}
	}
	return h.Close()
}

// Close revokes the URI: the daemon sees the connection close. It is safe
// to call more than once.
func (h *ExecHold) Close() error {
	var err error
	h.once.Do(func() { err = h.conn.Close() })
	return err
}

package execuri

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math"
	"net"
	"time"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/service"
)

// Audit results of exec and revoke events beyond audit.ResultOK.
const (
	ResultUnverifiedPID = "UnverifiedPID"   // the reported pid is not a child of the registering process (or cannot be checked)
	ResultNoCommand     = "NoCommand"       // the registration ended before a command was reported
	ResultTooMany       = "TooManyExecURIs" // refused: FullError
	ResultStopping      = "DaemonStopping"  // revoked because the daemon stopped
)

const endShutdown = credproc.ExecEndShutdown

// writeTimeout bounds each write to a registration's client.
const writeTimeout = 5 * time.Second

// upgradeResponse switches the registration's connection to the exec
// protocol.
const upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + credproc.ExecUpgrade + "\r\n\r\n"

// Register authorises the caller in ctx (the registering process, as the
// Unix socket identified it) for req's role and session, and registers
// req's token. On success the caller must pass the Grant to Hold, or to
// Drop if it cannot. Refusals: ErrBadToken, ErrURIDisabled,
// ErrUnidentified, ErrTokenInUse, ErrStopping, a *FullError, or what
// Prepare returned (a *service.DeniedError, an unknown role, a bad session,
// unavailable credentials). Denials and bounds are audited.
func (r *Registry) Register(ctx context.Context, req credproc.ExecRequest) (*Grant, error) {
	if !credproc.ValidExecToken(req.Token) {
		return nil, ErrBadToken
	}
	uri, ok := r.o.URL(req.Token)
	if !ok {
		return nil, ErrURIDisabled
	}
	id := peer.FromContext(ctx)
	if !id.Known {
		return nil, ErrUnidentified
	}
	ev := audit.Event{Kind: audit.KindExec, Role: req.Role, Session: req.Session, Caller: id, Path: id.Via}
	if err := r.o.Prepare(ctx, req.Role, req.Session); err != nil {
		var denied *service.DeniedError
		if errors.As(err, &denied) {
			ev.Result = "AccessDenied: " + denied.Reason
			r.auditRefusal(ev)
		}
		return nil, err
	}
	g := &Grant{role: req.Role, session: req.Session, uri: uri, digest: sha256.Sum256([]byte(req.Token)), caller: id}
	if err := r.add(g); err != nil {
		if errors.Is(err, ErrFull) {
			ev.Result = ResultTooMany
			r.auditRefusal(ev)
		}
		return nil, err
	}
	r.log.Info("exec URI registered", "role", req.Role, "session", req.Session, "uid", id.UID, "pid", id.PID)
	return g, nil
}

// Hold serves a registered Grant on conn, the registration's connection,
// which the caller has taken over from the HTTP server (br holds what was
// read from it already). It answers 101 with the URI, records the
// command's pid when the client reports it, and returns when the
// connection closes or the Registry stops, having revoked the URI and
// closed conn.
func (r *Registry) Hold(g *Grant, conn net.Conn, br *bufio.Reader) {
	defer r.wg.Done()
	defer conn.Close()
	defer r.remove(g) // runs first: the URI is dead before the client can see the close
	first, err := json.Marshal(credproc.ExecMessage{URI: g.uri})
	if err != nil {
		return
	}
	var pid int32
	if g.attach(conn, append([]byte(upgradeResponse), append(first, '\n')...)) {
		pid = r.awaitCommand(g, br)
		for {
			if _, err := br.ReadSlice('\n'); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				break // EOF: the client closed, exited or was killed; or Run closed conn
			}
		}
	}
	r.remove(g)
	r.revoked(g, pid)
}

// awaitCommand reads the client's report of the command's pid, checks that
// it is a child of the registering process, audits the exec, and answers.
// It returns the pid, or 0 if the connection ended first.
func (r *Registry) awaitCommand(g *Grant, br *bufio.Reader) int32 {
	ev := audit.Event{Kind: audit.KindExec, Role: g.role, Session: g.session, Caller: g.caller, Path: g.caller.Via}
	line, err := br.ReadSlice('\n')
	var m credproc.ExecMessage
	if err != nil || json.Unmarshal(line, &m) != nil || m.PID <= 0 || m.PID > math.MaxInt32 {
		ev.Result = ResultNoCommand
		r.audit(ev)
		return 0
	}
	ev.ExecPID = int32(m.PID)
	verified := g.caller.PID > 0 && parentOf(m.PID) == int(g.caller.PID)
	ev.Result = audit.ResultOK
	if !verified {
		ev.Result = ResultUnverifiedPID
	}
	r.audit(ev)
	r.log.Info("exec command started", "role", g.role, "session", g.session, "uid", g.caller.UID, "exec_pid", m.PID, "verified", verified)
	ack, _ := json.Marshal(credproc.ExecMessage{PID: m.PID, Verified: verified}) // cannot fail: ints and a bool
	g.write(append(ack, '\n'))
	return ev.ExecPID
}

// revoked audits and logs the end of g.
func (r *Registry) revoked(g *Grant, pid int32) {
	result := audit.ResultOK
	if g.ended() != "" {
		result = ResultStopping
	}
	r.audit(audit.Event{Kind: audit.KindRevoke, Role: g.role, Session: g.session, Caller: g.caller, Path: g.caller.Via, ExecPID: pid, Result: result})
	r.log.Info("exec URI revoked", "role", g.role, "session", g.session, "uid", g.caller.UID, "exec_pid", pid, "result", result)
}

// auditRefusal audits a refused registration, grouping repeats: a caller
// can repeat a refused one as fast as the socket lets it.
func (r *Registry) auditRefusal(ev audit.Event) {
	if r.o.Refusals != nil {
		r.o.Refusals.Audit(ev)
		return
	}
	r.audit(ev)
}

func (r *Registry) audit(ev audit.Event) {
	if r.o.Audit == nil {
		return
	}
	if err := r.o.Audit.Log(ev); err != nil {
		r.log.Error("audit log write failed", "err", err)
	}
}

// attach gives g its connection and writes first on it. It reports false
// if the Registry stopped g before it was held; the client is then told.
func (g *Grant) attach(conn net.Conn, first []byte) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conn = conn
	g.writeDeadline()
	if g.end != "" {
		conn.Write(append(first, endLine(g.end)...)) // best effort: the connection closes next
		return false
	}
	_, err := conn.Write(first)
	return err == nil
}

// write sends b on g's connection; a failure shows as the read ending.
func (g *Grant) write(b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeDeadline()
	g.conn.Write(b) // a failed write means the client left, which the read loop sees
}

// writeDeadline bounds the next write on g's connection, so that a client
// that never reads cannot hold g.mu, and with it Registry.Run, for long.
// Every write is a short line that fits in the socket's buffer.
func (g *Grant) writeDeadline() {
	g.conn.SetWriteDeadline(clock.Real{}.Now().Add(writeTimeout)) // an error shows as the write failing
}

// stop ends g: it tells the client why and closes the connection, which
// ends Hold's read loop.
func (g *Grant) stop(end string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.end = end
	if g.conn != nil {
		g.writeDeadline()
		g.conn.Write(endLine(end)) // best effort: the connection closes next
		g.conn.Close()
	}
}

func (g *Grant) ended() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end
}

func endLine(end string) []byte {
	b, _ := json.Marshal(credproc.ExecMessage{End: end}) // cannot fail: one string
	return append(b, '\n')
}

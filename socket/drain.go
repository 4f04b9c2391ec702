package socket

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/httpstop"
)

// ServeGraceful serves srv on ln until ctx ends, then stops without
// dropping a request, and returns.
//
// Stopping goes in three steps. First it stops accepting: connections not
// accepted yet stay queued on the listening socket, where the next process
// picks them up when systemd holds the socket across a restart. Then it
// waits until every accepted connection has had its request answered
// (keep-alives are off by then, so each closes after its response). Then it
// shuts srv down. The last two steps together take at most timeout.
//
// http.Server.Shutdown alone is not enough: a connection accepted just
// before Shutdown whose request is read just after is closed unanswered,
// and a client on a fresh connection sees EOF.
//
// Connections still busy when timeout runs out (a client that never sends
// the body it announced) are closed and logged to log: a stop that had to
// cut a stalled client is still a clean stop, and returns nil.
//
// ServeGraceful sets srv.ConnState, calling any hook already set.
func ServeGraceful(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration, log *slog.Logger) error {
	b := new(busyConns)
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		b.set(c, st)
		if prev != nil {
			prev(c, st)
		}
	}
	oln := &onceCloseListener{Listener: trackingListener{ln}}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(oln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.SetKeepAlivesEnabled(false)
	oln.Close() // an error here is Serve's to report
	// Serve has returned once it sees the closed listener; every connection
	// it accepted was marked StateNew before that.
	serr := <-errc
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	b.wait(sctx)
	err := httpstop.Shutdown(sctx, srv, log, "socket "+ln.Addr().String())
	if err == nil && !errors.Is(serr, net.ErrClosed) && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}

// busyConns counts the connections that have a request to answer: new
// (accepted, request not read yet) or active. ConnState runs twice per
// request, so the count is an atomic and each connection carries its own
// flag: no lock is shared between requests.
type busyConns struct{ n atomic.Int64 }

func (b *busyConns) set(c net.Conn, st http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	if st == http.StateNew || st == http.StateActive {
		if !tc.busy.Swap(true) {
			b.n.Add(1)
		}
	} else if tc.busy.Swap(false) {
		b.n.Add(-1)
	}
}

func (b *busyConns) count() int { return int(b.n.Load()) }

// trackingListener wraps accepted connections so that each carries its
// busy flag.
type trackingListener struct{ net.Listener }

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackedConn{Conn: c}, nil
}

// trackedConn is an accepted connection and whether it is busy.
type trackedConn struct {
	net.Conn
	busy atomic.Bool
}

// NetConn returns the connection it wraps, as crypto/tls does.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// wait polls until no connection is busy or ctx ends, backing off from
// 1 ms to 50 ms as http.Server.Shutdown does.
func (b *busyConns) wait(ctx context.Context) {
	for d := time.Millisecond; b.count() > 0; d = min(2*d, 50*time.Millisecond) {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// onceCloseListener lets ServeGraceful close the listener before Shutdown
// closes it again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

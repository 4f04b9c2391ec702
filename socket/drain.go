package socket

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
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
// ServeGraceful sets srv.ConnState, calling any hook already set.
func ServeGraceful(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	b := &busyConns{conns: make(map[net.Conn]struct{})}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		b.set(c, st)
		if prev != nil {
			prev(c, st)
		}
	}
	oln := &onceCloseListener{Listener: ln}
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
	err := srv.Shutdown(sctx)
	if err == nil && !errors.Is(serr, net.ErrClosed) && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}

// busyConns tracks the connections that have a request to answer: new
// (accepted, request not read yet) or active.
type busyConns struct {
	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
}

func (b *busyConns) set(c net.Conn, st http.ConnState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st == http.StateNew || st == http.StateActive {
		b.conns[c] = struct{}{}
	} else {
		delete(b.conns, c)
	}
}

func (b *busyConns) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

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

package metadata

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ossd/ossd/internal/httpstop"
	"github.com/ossd/ossd/internal/peer"
)

// Limits of the metadata and URI listeners. Real requests are a request
// line and half a dozen short headers.
const (
	maxHeaderBytes    = 4 << 10 // net/http allows 4 KiB more than this
	readHeaderTimeout = 5 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Serve answers h on ln until ctx ends, then stops accepting, lets
// in-flight requests finish for up to 5 s, closes what has not (logging it
// to log), and returns nil: a stalled client never makes the end of a
// listener fail. It returns early with the error if serving fails. peers
// identifies the process behind each connection when a request needs it;
// nil makes a Finder for this call.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, peers *peer.Finder) error {
	if peers == nil {
		peers = peer.New(peer.Options{Log: log})
		defer peers.Close()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug),
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return identify(ctx, peers, c) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := httpstop.Shutdown(sctx, srv, log, "tcp "+ln.Addr().String())
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// identify attaches the local process behind a TCP connection to its
// requests, so the roles' [role.allow] rules apply here as on the Unix
// socket. A peer that cannot be identified (not a process of this host)
// stays unidentified, which a role with rules refuses.
func identify(ctx context.Context, peers *peer.Finder, c net.Conn) context.Context {
	remote, ok1 := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return ctx
	}
	return peer.NewLazyContext(ctx, func() peer.Identity {
		id, err := peers.TCP(remote.AddrPort(), local.AddrPort())
		if err != nil {
			return peer.Identity{Via: "tcp " + local.String()}
		}
		id.Via = "tcp " + local.String()
		return id
	})
}

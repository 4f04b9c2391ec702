// Package httpstop ends an http.Server within a time budget, and never
// lets a slow client turn the end of a listener into a failure.
//
// http.Server.Shutdown waits for every active connection to go idle and
// returns the context's error when the budget runs out first. A client that
// sends the headers of a request and never its body keeps its connection
// active until the server's read timeout, so one local process could make
// any shutdown, and so a reload or a clean exit, fail. Shutdown here closes
// what did not finish in time, says so in one log line, and returns nil.
package httpstop

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Shutdown shuts srv down gracefully until ctx ends, then closes the
// connections still open and logs it under the name listener. It returns
// an error only if closing fails for another reason than the budget.
func Shutdown(ctx context.Context, srv *http.Server, log *slog.Logger, listener string) error {
	err := srv.Shutdown(ctx)
	if err == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	if log != nil {
		log.Warn("listener stopped; connections that did not finish in time were closed", "listener", listener)
	}
	// Close fails only with the listeners' close errors, which Shutdown
	// already met; the connections are closed either way.
	_ = srv.Close()
	return nil
}

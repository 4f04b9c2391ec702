package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
)

// Re-registration backoff after the daemon went away.
const (
	reregisterMin = 100 * time.Millisecond
	reregisterMax = 5 * time.Second
	revokeTimeout = 5 * time.Second
)

// keeper keeps a command's URI registered while the command runs. If the
// daemon stops or restarts (systemd keeps the socket), it registers the same
// token again, so the command's URI keeps answering once a daemon is back.
type keeper struct {
	cl     *credproc.Client
	req    credproc.ExecRequest
	pid    int
	stderr io.Writer
	stop   chan struct{} // closed when the command has ended
	done   chan struct{} // closed once the URI is revoked
}

// report tells the daemon the command's pid, for its audit log. A daemon
// that does not answer is the run loop's business.
func (k *keeper) report(h *credproc.ExecHold) {
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if _, err := h.Started(ctx, k.pid); err != nil && h.End() == "" {
		select {
		case <-h.Done(): // the run loop registers again
		default:
			fmt.Fprintf(k.stderr, "ossd exec: warning: %v\n", err)
		}
	}
}

// run holds h until the command ends, then revokes the URI.
func (k *keeper) run(h *credproc.ExecHold) {
	defer close(k.done)
	for h != nil {
		select {
		case <-k.stop:
			ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
			h.Revoke(ctx) // an error means the daemon already dropped it
			cancel()
			return
		case <-h.Done():
		}
		h.Close() // the connection is over; nothing to report
		why := "the connection to the daemon broke"
		if h.End() == credproc.ExecEndShutdown {
			why = "the daemon is stopping"
		}
		fmt.Fprintf(k.stderr, "ossd exec: %s; the command's credentials URI is revoked until it is registered again\n", why)
		h = k.reregister()
	}
}

// reregister registers the token again, with backoff, until it succeeds,
// the daemon refuses it, or the command ends; nil unless it succeeded.
func (k *keeper) reregister() *credproc.ExecHold {
	clk := clock.Real{}
	for wait := reregisterMin; ; wait = min(2*wait, reregisterMax) {
		t := clk.NewTimer(wait)
		select {
		case <-k.stop:
			t.Stop()
			return nil
		case <-t.C():
		}
		ctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
		go func() {
			select {
			case <-k.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		h, err := k.cl.Exec(ctx, k.req)
		cancel()
		if err == nil {
			fmt.Fprintln(k.stderr, "ossd exec: the credentials URI is registered again")
			k.report(h)
			return h
		}
		if refused(err) {
			fmt.Fprintf(k.stderr, "ossd exec: the daemon refused to register the URI again; the command runs on without it: %v\n", err)
			return nil
		}
	}
}

// refused reports whether err is the daemon's answer, not its absence: a
// refusal that trying again will not change.
func refused(err error) bool {
	var (
		ae *credproc.APIError
		ue *credproc.UnknownRoleError
		pe *credproc.PermissionError
	)
	switch {
	case errors.As(err, &ae):
		return ae.Status/100 == 4
	case errors.As(err, &ue), errors.As(err, &pe):
		return true
	}
	return false
}

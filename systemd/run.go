package systemd

import (
	"context"
	"log/slog"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// DefaultStatusEvery is how often [Run] refreshes STATUS= when the watchdog
// is off.
const DefaultStatusEvery = 30 * time.Second

// Options configure [Run]. All fields are optional.
type Options struct {
	Clock clock.Clock  // default clock.Real
	Log   *slog.Logger // failed notifications and checks are logged at Warn

	// Watchdog is the watchdog timeout, from [WatchdogInterval]; 0 sends no
	// pings.
	Watchdog time.Duration
	// Check runs before each ping; when it fails the ping is skipped, so
	// that systemd restarts a daemon that has stopped answering.
	Check func(ctx context.Context) error
	// Status returns the current status text; nil sends none. A text is
	// sent only when it differs from the last one sent.
	Status func() string
	// StatusEvery is how often to refresh the status when there is no
	// watchdog; default [DefaultStatusEvery].
	StatusEvery time.Duration
}

// Run keeps systemd informed until ctx ends. It ticks at once and then
// every [PingEvery](o.Watchdog) (or o.StatusEvery without a watchdog):
// each tick sends the status if it changed and, if o.Check passes, a
// watchdog ping. When ctx ends Run sends STOPPING=1 and returns nil.
//
// Without NOTIFY_SOCKET, Run returns nil at once.
func Run(ctx context.Context, o Options) error {
	if !Enabled() {
		return nil
	}
	s := &supervisor{o: o, clk: clock.Or(o.Clock), log: o.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	every := PingEvery(o.Watchdog)
	if every <= 0 {
		every = o.StatusEvery
	}
	if every <= 0 {
		every = DefaultStatusEvery
	}
	t := s.clk.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.send(Stopping, Status("stopping"))
			return nil
		case <-t.C():
		}
		s.tick(ctx)
		t.Reset(every)
	}
}

type supervisor struct {
	o          Options
	clk        clock.Clock
	log        *slog.Logger
	lastStatus string // owned by Run's goroutine
}

func (s *supervisor) tick(ctx context.Context) {
	var states []string
	if s.o.Status != nil {
		if st := s.o.Status(); st != s.lastStatus {
			states = append(states, Status(st))
			s.lastStatus = st
		}
	}
	if s.o.Watchdog > 0 {
		if err := s.check(ctx); err != nil {
			s.log.Warn("health check failed; not pinging the systemd watchdog", "err", err)
		} else {
			states = append(states, Watchdog)
		}
	}
	s.send(states...)
}

func (s *supervisor) check(ctx context.Context) error {
	if s.o.Check == nil {
		return nil
	}
	return s.o.Check(ctx)
}

func (s *supervisor) send(states ...string) {
	if err := Notify(states...); err != nil {
		s.log.Warn("systemd notification failed", "err", err)
	}
}

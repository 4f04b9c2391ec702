package systemd

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// States a service reports with [Notify] (sd_notify(3)).
const (
	Ready     = daemon.SdNotifyReady     // start-up (or a reload) is finished
	Stopping  = daemon.SdNotifyStopping  // shutdown has begun
	Reloading = daemon.SdNotifyReloading // a reload has begun; send Ready when done
	Watchdog  = daemon.SdNotifyWatchdog  // keep-alive ping
)

// Status returns the STATUS= assignment for a one-line status text, which
// systemctl status shows. Newlines would end the assignment, so they become
// spaces.
func Status(text string) string {
	return "STATUS=" + strings.NewReplacer("\n", " ", "\r", " ").Replace(text)
}

// Enabled reports whether systemd asked for notifications (NOTIFY_SOCKET is
// set).
func Enabled() bool { return os.Getenv("NOTIFY_SOCKET") != "" }

// Notify sends the given assignments ("READY=1", [Status](...)) to systemd
// in one datagram. Without NOTIFY_SOCKET it sends nothing and returns nil.
func Notify(states ...string) error {
	if len(states) == 0 {
		return nil
	}
	if _, err := daemon.SdNotify(false, strings.Join(states, "\n")); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}

// WatchdogInterval returns the service's watchdog timeout (WatchdogSec=,
// passed as WATCHDOG_USEC), or 0 when the watchdog is off or meant for
// another process (WATCHDOG_PID). A malformed value is an error.
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("read systemd watchdog: %w", err)
	}
	return d, nil
}

// PingEvery returns how often to ping a watchdog with the given timeout:
// at half of it, as sd_watchdog_enabled(3) advises.
func PingEvery(timeout time.Duration) time.Duration { return timeout / 2 }

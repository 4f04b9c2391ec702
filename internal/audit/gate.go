package audit

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrFailed is wrapped by every error of a line that was not written.
// Front ends answer an action refused for it with 503 and the code
// AuditFailed.
var ErrFailed = errors.New("audit log not written")

// Policy says what a line that cannot be written means.
type Policy struct {
	// Optional lets an action go ahead when its line cannot be written
	// ([audit] required = false): the failure is counted and logged, and
	// [Logger.Gate] returns nil. By default (false) Gate refuses.
	Optional bool
	// Log receives one ERROR line when writing starts to fail and one INFO
	// line when it works again, never one per failed line; nil discards.
	Log *slog.Logger
}

// SetPolicy sets l's policy. Call it before l is used.
func (l *Logger) SetPolicy(p Policy) { l.policy = p }

// Gate writes e, the line of an action about to be taken (credentials or
// a URL handed to a caller), and reports whether the action may go ahead:
// it is written first, so that nothing leaves unrecorded. It returns an
// error wrapping [ErrFailed] when the line could not be written, unless the
// policy is Optional.
//
// Every path that hands out something a caller can use goes through Gate.
func (l *Logger) Gate(e Event) error {
	err := l.Log(e)
	if err != nil && l.policy.Optional {
		return nil
	}
	return err
}

// State is the health of an audit log.
type State struct {
	OK       bool  // the last line was written (or none has been tried)
	Failures int64 // lines that could not be written since start
}

// String returns "ok" or "failing".
func (s State) String() string {
	if s.OK {
		return "ok"
	}
	return "failing"
}

// State reports whether the log is being written. It changes back to OK as
// soon as a line is written again.
func (l *Logger) State() State {
	return State{OK: !l.failing.Load(), Failures: l.failures.Load()}
}

// failed counts a line that was not written and returns err wrapping
// ErrFailed.
func (l *Logger) failed(err error) error {
	l.failures.Add(1)
	if !l.failing.Swap(true) && l.policy.Log != nil {
		if l.policy.Optional {
			l.policy.Log.Error("audit log cannot be written; credentials and URLs are still issued ([audit] required = false)", "err", err)
		} else {
			l.policy.Log.Error("audit log cannot be written; refusing to issue credentials and URLs until it can (503 AuditFailed)", "err", err)
		}
	}
	return fmt.Errorf("%w: %w", ErrFailed, err)
}

// recovered notes a line written.
func (l *Logger) recovered() {
	if l.failing.Load() && l.failing.Swap(false) && l.policy.Log != nil {
		l.policy.Log.Info("audit log written again", "lines_lost", l.failures.Load())
	}
}

package ossd

import (
	"errors"
	"fmt"
	"strings"
)

// STSError is an error answered by STS. It carries only what is safe to log:
// the code, a truncated message and the request id.
type STSError struct {
	Code      string // e.g. "Throttling.User", "SignatureDoesNotMatch"
	Message   string
	RequestID string
	Status    int // HTTP status; 0 for errors that never reached STS
}

func (e *STSError) Error() string {
	s := "sts " + e.Code
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Throttled reports whether the error asks the caller to slow down.
func (e *STSError) Throttled() bool { return strings.HasPrefix(e.Code, "Throttling") }

// ErrorCode returns the STS code of err, or "" if err carries none.
func ErrorCode(err error) string {
	var se *STSError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// IsThrottled reports whether err is an STS throttling error.
func IsThrottled(err error) bool {
	var se *STSError
	return errors.As(err, &se) && se.Throttled()
}

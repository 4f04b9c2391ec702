package service

import (
	"errors"
	"fmt"

	"github.com/ossd/ossd/internal/peer"
)

// ErrDenied is wrapped by every *DeniedError.
var ErrDenied = errors.New("access denied")

// DeniedError refuses a caller a role. Its message is the same whether the
// role exists or not; Reason, which says which rule refused, is for the
// audit and operational logs only.
type DeniedError struct {
	Role   string
	Caller peer.Identity
	Reason string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("role %q is not available to %s", e.Role, e.Caller)
}

// Unwrap returns ErrDenied.
func (e *DeniedError) Unwrap() error { return ErrDenied }

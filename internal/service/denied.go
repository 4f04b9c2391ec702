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
	// Detail, when set, is told to the caller instead of the generic
	// refusal: for a caller who may have the role but cannot be given a
	// session of its own, the role's existence is no secret.
	Detail string
}

func (e *DeniedError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("role %q: %s", e.Role, e.Detail)
	}
	return fmt.Sprintf("role %q is not available to %s", e.Role, e.Caller)
}

// Unwrap returns ErrDenied.
func (e *DeniedError) Unwrap() error { return ErrDenied }

package socket

import (
	"context"
	"errors"
	"net/http"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/apierr"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/refresher"
)

// Stable error codes of the API.
const (
	CodeUnknownRole     = "UnknownRole"
	CodeDenied          = "AccessDenied"
	CodeBadRequest      = "BadRequest"
	CodeNotFound        = "NotFound"
	CodeMethod          = "MethodNotAllowed"
	CodeUnavailable     = "CredentialsUnavailable"
	CodeTooLarge        = "RequestTooLarge"
	CodeInternal        = "InternalError"
	CodeCallerTimeout   = "Timeout"
	CodeTooManyRequests = ratelimit.Code // 429: the caller is over its rate
	CodeAuditFailed     = "AuditFailed"  // 503: the audit log cannot be written, so nothing was issued
)

// apiError is an error with its HTTP status and stable code.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// classify maps an error to its status and code. It is the only place that
// does so.
func classify(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, service.ErrDenied):
		return &apiError{http.StatusForbidden, CodeDenied, err.Error()}
	case errors.Is(err, ossd.ErrUnknownRole):
		return &apiError{http.StatusNotFound, CodeUnknownRole, err.Error()}
	case errors.Is(err, service.ErrBadSession):
		return &apiError{http.StatusBadRequest, CodeBadRequest, err.Error()}
	case errors.Is(err, ratelimit.ErrLimited):
		return &apiError{http.StatusTooManyRequests, CodeTooManyRequests, err.Error()}
	case errors.Is(err, audit.ErrFailed):
		return &apiError{http.StatusServiceUnavailable, CodeAuditFailed, "the audit log cannot be written, so no credentials were issued; try again later"}
	case errors.Is(err, refresher.ErrNoCredentials):
		return &apiError{http.StatusServiceUnavailable, CodeUnavailable, err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{http.StatusServiceUnavailable, CodeCallerTimeout, "request ended before credentials were ready"}
	}
	return &apiError{http.StatusInternalServerError, CodeInternal, "internal error"}
}

// writeError writes err as {"Code":..., "Message":...}.
func writeError(w http.ResponseWriter, err error) {
	ae := classify(err)
	apierr.Write(w, ae.Status, ae.Code, ae.Message)
}

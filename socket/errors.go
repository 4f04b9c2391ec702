package socket

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/refresher"
)

// Stable error codes of the API.
const (
	CodeUnknownRole   = "UnknownRole"
	CodeBadRequest    = "BadRequest"
	CodeNotFound      = "NotFound"
	CodeMethod        = "MethodNotAllowed"
	CodeUnavailable   = "CredentialsUnavailable"
	CodeTooLarge      = "RequestTooLarge"
	CodeInternal      = "InternalError"
	CodeCallerTimeout = "Timeout"
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
	case errors.Is(err, ossd.ErrUnknownRole):
		return &apiError{http.StatusNotFound, CodeUnknownRole, err.Error()}
	case errors.Is(err, service.ErrBadSession):
		return &apiError{http.StatusBadRequest, CodeBadRequest, err.Error()}
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
	b := make([]byte, 0, 128)
	b = append(b, `{"Code":`...)
	b = strconv.AppendQuote(b, ae.Code)
	b = append(b, `,"Message":`...)
	b = strconv.AppendQuote(b, ae.Message)
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(ae.Status)
	w.Write(b) // a failed write means the caller left; nothing to do
}

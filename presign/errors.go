package presign

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/refresher"
)

// Stable error codes. 400: the request is malformed. 403: the role's presign
// policy refuses it. The codes shared with the socket API mean the same.
const (
	CodeBadRequest      = "BadRequest"      // 400: body is not one JSON object of known fields
	CodeTooLarge        = "RequestTooLarge" // 413
	CodeMethod          = "MethodNotAllowed"
	CodeInvalidBucket   = "InvalidBucketName"
	CodeInvalidKey      = "InvalidObjectName"
	CodeInvalidMethod   = "InvalidMethod"
	CodeInvalidExpires  = "InvalidExpires"
	CodeInvalidVersion  = "InvalidSignatureVersion"
	CodeInvalidRegion   = "InvalidRegion"
	CodeMissingRegion   = "MissingRegion"
	CodeInvalidEndpoint = "InvalidEndpoint"
	CodeInvalidCloudBox = "InvalidCloudBoxId"
	CodeMissingCloudBox = "MissingCloudBoxId" // a CloudBox endpoint without a CloudBox id
	CodeInvalidStyle    = "InvalidURLStyle"
	CodeInvalidHeader   = "InvalidHeader"
	CodeInvalidQuery    = "InvalidQuery"

	CodeUnknownRole     = "UnknownRole"       // 404
	CodeDenied          = "AccessDenied"      // 403: the caller may not have the role
	CodeNotAllowed      = "PresignNotAllowed" // 403: the role has no [role.presign]
	CodeBucketDenied    = "BucketNotAllowed"
	CodeKeyDenied       = "KeyNotAllowed"
	CodeOperationDenied = "OperationNotAllowed"
	CodeExpiresTooLong  = "ExpiresTooLong"

	CodeUnavailable   = "CredentialsUnavailable" // 503
	CodeCallerTimeout = "Timeout"                // 503
	CodeAuditFailed   = "AuditFailed"            // 503: the audit log cannot be written, so the URL was not issued
	CodeInternal      = "InternalError"          // 500
)

// Error is a refusal with its HTTP status and stable code. Its message never
// holds a secret.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(code, format string, args ...any) *Error {
	return &Error{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

func forbidden(code, format string, args ...any) *Error {
	return &Error{http.StatusForbidden, code, fmt.Sprintf(format, args...)}
}

// classify maps any error to an *Error. It is the only place that does so.
func classify(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, service.ErrDenied):
		return &Error{http.StatusForbidden, CodeDenied, err.Error()}
	case errors.Is(err, ossd.ErrUnknownRole):
		return &Error{http.StatusNotFound, CodeUnknownRole, err.Error()}
	case errors.Is(err, service.ErrTooLong):
		return &Error{http.StatusForbidden, CodeExpiresTooLong, err.Error()}
	case errors.Is(err, refresher.ErrNoCredentials), errors.Is(err, service.ErrShortSession):
		return &Error{http.StatusServiceUnavailable, CodeUnavailable, err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{http.StatusServiceUnavailable, CodeCallerTimeout, "request ended before credentials were ready"}
	case errors.Is(err, audit.ErrFailed):
		return &Error{http.StatusServiceUnavailable, CodeAuditFailed, "the audit log cannot be written, so no URL was issued; try again later"}
	}
	return &Error{http.StatusInternalServerError, CodeInternal, "internal error"}
}

// appendError appends e as the socket API's {"Code":...,"Message":...}.
func appendError(b []byte, e *Error) []byte {
	b = append(b, `{"Code":`...)
	b = ossd.AppendJSONString(b, e.Code)
	b = append(b, `,"Message":`...)
	b = ossd.AppendJSONString(b, e.Message)
	return append(b, "}\n"...)
}

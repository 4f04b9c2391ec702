package metadata

import (
	"context"
	"errors"
	"net/http"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/apierr"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/refresher"
)

// Stable error codes, sent as {"Code":...,"Message":...} with the status.
const (
	CodeForbidden       = "Forbidden"             // forwarded, browser or foreign-Host request
	CodeTooManyRequests = ratelimit.Code          // 429: the caller's uid is over its rate
	CodeAuditFailed     = "AuditFailed"           // 503: the audit log cannot be written, so nothing was issued
	CodeNotFound        = "NotFound"              // unknown path, or a role this listener does not serve
	CodeMethod          = "MethodNotAllowed"      // wrong method on a known path
	CodeTooLarge        = "RequestTooLarge"       // request body over 1 KiB
	CodeTokenRequired   = "MetadataTokenRequired" // tokens = "required" and none sent
	CodeTokenInvalid    = "InvalidMetadataToken"  // unknown, expired or another listener's token
	CodeBadTTL          = "InvalidTokenTTL"       // TTL header missing or outside 1..21600
	CodeUnavailable     = "CredentialsUnavailable"
	CodeCallerTimeout   = "Timeout"
	CodeInternal        = "InternalError"
	CodeUnknownRole     = "UnknownRole" // socket lookup of a URI for an unknown role
	CodeDenied          = "AccessDenied"
	CodeURIDisabled     = "URIDisabled" // socket lookup while [uri] listen is empty
	CodeExecEnded       = "ExecEnded"   // an exec URI that is not registered (its command ended)
)

// httpError is a refusal with its status and stable code. Messages never
// hold a secret.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

// Refusals; each is a fixed value so that a refusal costs no allocation.
var (
	errForwarded     = &httpError{http.StatusForbidden, CodeForbidden, "forwarded requests are refused (X-Forwarded-For or Forwarded header)"}
	errBrowser       = &httpError{http.StatusForbidden, CodeForbidden, "requests carrying Referer or Origin are refused"}
	errHost          = &httpError{http.StatusForbidden, CodeForbidden, "Host must be an IP address or localhost"}
	errNotFound      = &httpError{http.StatusNotFound, CodeNotFound, "not found"}
	errTooLarge      = &httpError{http.StatusRequestEntityTooLarge, CodeTooLarge, "request body over 1 KiB"}
	errTokenRequired = &httpError{http.StatusUnauthorized, CodeTokenRequired, "a metadata token is required: PUT /latest/api/token first"}
	errTokenInvalid  = &httpError{http.StatusUnauthorized, CodeTokenInvalid, "metadata token is invalid or expired"}
	errBadTTL        = &httpError{http.StatusBadRequest, CodeBadTTL, "X-aliyun-ecs-metadata-token-ttl-seconds must be a whole number of seconds, 1..21600"}
	errURIDisabled   = &httpError{http.StatusNotFound, CodeURIDisabled, "the credentials URI endpoint is disabled: set [uri] listen in the config"}
)

// classify maps an error to its status, code and message. It is the only
// place that does so.
func classify(err error) *httpError {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, service.ErrDenied):
		return &httpError{http.StatusForbidden, CodeDenied, err.Error()}
	case errors.Is(err, ossd.ErrUnknownRole):
		return &httpError{http.StatusNotFound, CodeUnknownRole, err.Error()}
	case errors.Is(err, ratelimit.ErrLimited):
		return &httpError{http.StatusTooManyRequests, CodeTooManyRequests, err.Error()}
	case errors.Is(err, audit.ErrFailed):
		return &httpError{http.StatusServiceUnavailable, CodeAuditFailed, "the audit log cannot be written, so no credentials were issued; retry shortly"}
	case errors.Is(err, refresher.ErrNoCredentials):
		return &httpError{http.StatusServiceUnavailable, CodeUnavailable, err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &httpError{http.StatusServiceUnavailable, CodeCallerTimeout, "credentials were not ready in time; retry shortly"}
	}
	return &httpError{http.StatusInternalServerError, CodeInternal, "internal error"}
}

// writeError writes err as {"Code":...,"Message":...}.
func writeError(w http.ResponseWriter, err error) {
	e := classify(err)
	apierr.Write(w, e.status, e.code, e.message)
}

// credentialsError answers a credentials request for role that failed
// with err, and records it in rec, which groups repeats.
func credentialsError(w http.ResponseWriter, r *http.Request, rec *refusal.Recorder, role string, err error) {
	e := classify(err)
	rec.Log(refusal.Refusal{Caller: peer.FromContext(r.Context()), Role: role, Status: e.status, Code: e.code, Err: err})
	apierr.Write(w, e.status, e.code, e.message)
}

// Header values shared by every response; never modified.
var (
	jsonType = []string{"application/json"}
	textType = []string{"text/plain"}
	nosniff  = []string{"nosniff"}
	noStore  = []string{"no-store"}
)

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, &httpError{http.StatusMethodNotAllowed, CodeMethod, "method not allowed; use " + allow})
}

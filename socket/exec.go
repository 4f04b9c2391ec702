package socket

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
)

// Codes of exec registration refusals, beyond the API's common ones.
const (
	CodeURIDisabled     = "URIDisabled"
	CodeUpgradeRequired = "UpgradeRequired"
	CodeTokenInUse      = "TokenInUse"
	CodeTooMany         = "TooManyExecURIs"
	CodeStopping        = "Stopping"
)

// exec answers POST /v1/exec: it registers an exec-scoped credentials URI
// for the caller (ossd exec) and then holds the connection, which the
// Registry owns from the 101 on, until the URI is revoked.
func (s *Server) exec(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), credproc.ExecUpgrade) {
		w.Header().Set("Upgrade", credproc.ExecUpgrade)
		writeError(w, &apiError{http.StatusUpgradeRequired, CodeUpgradeRequired, "this endpoint is for ossd exec: Upgrade: " + credproc.ExecUpgrade})
		return
	}
	var req credproc.ExecRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, &apiError{http.StatusBadRequest, CodeBadRequest, "the body must be a JSON object with role, session and token"})
		return
	}
	g, err := s.execReg.Register(r.Context(), req)
	if err != nil {
		ae := classify(execError(err))
		s.refusals.Log(refusal.Refusal{Caller: peer.FromContext(r.Context()), Role: req.Role, Status: ae.Status, Code: ae.Code, Err: err})
		writeError(w, ae)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.execReg.Drop(g)
		writeError(w, err)
		return
	}
	// ServeHTTP set a deadline for reading the body; the hold has none.
	if err := conn.SetDeadline(time.Time{}); err != nil {
		s.execReg.Drop(g)
		conn.Close()
		return
	}
	s.execReg.Hold(g, conn, brw.Reader)
}

// execError gives a registration refusal its status and code; every other
// error is classify's.
func execError(err error) error {
	status, code := 0, ""
	switch {
	case errors.Is(err, execuri.ErrBadToken):
		status, code = http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, execuri.ErrURIDisabled):
		status, code = http.StatusNotFound, CodeURIDisabled
	case errors.Is(err, execuri.ErrUnidentified):
		status, code = http.StatusForbidden, CodeDenied
	case errors.Is(err, execuri.ErrTokenInUse):
		status, code = http.StatusConflict, CodeTokenInUse
	case errors.Is(err, execuri.ErrFull):
		status, code = http.StatusTooManyRequests, CodeTooMany
	case errors.Is(err, execuri.ErrStopping):
		status, code = http.StatusServiceUnavailable, CodeStopping
	default:
		return err
	}
	return &apiError{status, code, err.Error()}
}

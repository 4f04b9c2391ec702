package metadata

import (
	"net/http"

	"github.com/ossd/ossd/internal/peer"
)

// ExecPrefix is the path under which exec-scoped credentials URIs live
// (ossd exec): ExecPrefix + the token the command's registration holds.
const ExecPrefix = "/v1/exec/"

// Grants resolves exec tokens; *execuri.Registry is one.
type Grants interface {
	// Grant returns the role and session token serves, and reports whether
	// it is registered now.
	Grant(token string) (role, session string, ok bool)
}

// errExecEnded answers every request to an exec URI that is not live, and
// every request to one that is not GET or HEAD.
var errExecEnded = &httpError{http.StatusForbidden, CodeExecEnded, "this exec credentials URI is not registered: the command it was issued to has ended"}

// ExecURL returns the exec URI of token.
func (u *URIServer) ExecURL(token string) string { return u.o.BaseURL + ExecPrefix + token }

// serveExec answers a request under ExecPrefix. The role's rules are
// checked against the process that connected, as on the role URIs, and the
// issuance is audited with that process's pid; the listener shows as
// "exec tcp ADDR" in the audit log.
func (u *URIServer) serveExec(w http.ResponseWriter, r *http.Request, tok string) {
	role, session, ok := u.o.Grants.Grant(tok)
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
		u.log.Debug("request refused", "remote", r.RemoteAddr, "err", errExecEnded)
		writeError(w, errExecEnded)
		return
	}
	id := peer.FromContext(r.Context())
	id.Via = "exec " + id.Via
	u.answer(peer.NewContext(r.Context(), id), w, r, role, session)
}

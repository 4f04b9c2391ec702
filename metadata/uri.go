package metadata

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/refusal"
)

// URIPrefix is the path under which the credentials URI of each role lives:
// URIPrefix + Key.Token(role).
const URIPrefix = "/v1/credentials/"

// RoleSource is a Source that can list its roles; *service.Service is one.
type RoleSource interface {
	Source
	Names() []string
}

// URIOptions configure a URIServer. Source, Key and BaseURL are required.
type URIOptions struct {
	Source   RoleSource
	Key      *Key
	BaseURL  string      // where the listener is reached, "http://127.0.0.1:8101"
	Clock    clock.Clock // of the default limiter; nil = real
	Log      *slog.Logger
	Deadline time.Duration      // per request; default DefaultDeadline
	Grants   Grants             // exec URIs (ossd exec); nil: none are served
	Limit    *ratelimit.Limiter // as in [Options]
	Refusals *refusal.Recorder  // as in [Options]
}

// URIServer serves GET /v1/credentials/<token>, the target of
// ALIBABA_CLOUD_CREDENTIALS_URI. The token is the only authorisation: any
// local process that knows a role's URL can read that role's credentials.
// Every other request, a wrong token included, gets the same 404, and
// tokens are compared in constant time against every configured role.
type URIServer struct {
	o      URIOptions
	log    *slog.Logger
	guard  *guard
	tokens sync.Map // role name -> []byte token; a cache of Key.Token
}

// NewURI returns a URIServer.
func NewURI(o URIOptions) *URIServer {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	return &URIServer{o: o, log: o.Log.With("component", "uri"), guard: newGuard(o.Limit, o.Clock)}
}

// URL returns the credentials URI of role, or an error wrapping
// ossd.ErrUnknownRole.
func (u *URIServer) URL(role string) (string, error) {
	for _, n := range u.o.Source.Names() {
		if n == role {
			return u.o.BaseURL + URIPrefix + string(u.token(role)), nil
		}
	}
	return "", fmt.Errorf("%w %q", ossd.ErrUnknownRole, role)
}

func (u *URIServer) token(role string) []byte {
	if t, ok := u.tokens.Load(role); ok {
		return t.([]byte)
	}
	t := []byte(u.o.Key.Token(role))
	u.tokens.Store(role, t)
	return t
}

// match returns the role whose token tok is, comparing with every role so
// that the time taken does not depend on which one matched.
func (u *URIServer) match(tok string) (string, bool) {
	b := []byte(tok)
	role, found := "", 0
	for _, n := range u.o.Source.Names() {
		if subtle.ConstantTimeCompare(b, u.token(n)) == 1 {
			role, found = n, 1
		}
	}
	return role, found == 1
}

// ServeHTTP answers GET and HEAD of a role's URI with the SPEC §1 body.
// The path is never logged: it is the secret.
func (u *URIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := u.guard.check(w, r); err != nil {
		u.log.Debug("request refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, err)
		return
	}
	if tok, ok := strings.CutPrefix(r.URL.Path, ExecPrefix); ok && u.o.Grants != nil {
		u.serveExec(w, r, tok) // exec.go
		return
	}
	tok, ok := strings.CutPrefix(r.URL.Path, URIPrefix)
	role, found := u.match(tok)
	if !ok || !found || r.Method != http.MethodGet && r.Method != http.MethodHead {
		u.log.Debug("request refused", "remote", r.RemoteAddr, "err", errNotFound)
		writeError(w, errNotFound)
		return
	}
	u.answer(r.Context(), w, r, role, "")
}

// answer serves the credentials of role and session to the caller in ctx.
func (u *URIServer) answer(ctx context.Context, w http.ResponseWriter, r *http.Request, role, session string) {
	ctx, cancel := context.WithTimeout(ctx, u.o.Deadline)
	defer cancel()
	c, err := u.o.Source.Credentials(ctx, role, session)
	if err != nil {
		credentialsError(w, r, u.o.Refusals, role, err)
		return
	}
	writeCredentials(w, c)
	if u.log.Enabled(ctx, slog.LevelDebug) {
		u.log.Debug("credentials served", "role", role, "session", session, "remote", r.RemoteAddr, "access_key_id", c.AccessKeyID)
	}
}

// LookupHandler answers GET /v1/uri/{role} on the Unix socket with
// {"role":...,"uri":...}: whoever may have the role's credentials from the
// socket may learn the URL. authorize refuses a caller who may not (and,
// once roles have rules, hides whether the role exists); get returns the
// running URIServer, or nil when the endpoint is disabled.
func LookupHandler(get func() *URIServer, authorize func(r *http.Request, role string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		u := get()
		if u == nil {
			writeError(w, errURIDisabled)
			return
		}
		role := r.PathValue("role")
		if err := authorize(r, role); err != nil {
			writeError(w, err)
			return
		}
		url, err := u.URL(role)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header()["Content-Type"] = jsonType
		w.Header()["Cache-Control"] = noStore
		json.NewEncoder(w).Encode(struct { // a failed write means the caller left
			Role string `json:"role"`
			URI  string `json:"uri"`
		}{role, url})
	})
}

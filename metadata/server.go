package metadata

import (
	"context"
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

// Source answers credential requests by role name; *service.Service is
// one. It must answer from cache whenever a valid token is cached.
type Source interface {
	Credentials(ctx context.Context, role, session string) (ossd.Credentials, error)
}

// DefaultDeadline bounds a credentials request. The clients give the
// metadata service one second to answer (SPEC §2); a cold fetch that takes
// longer goes on in the background and the client's next attempt is served
// from cache.
const DefaultDeadline = 900 * time.Millisecond

// Paths and headers of the metadata protocol (SPEC §2).
const (
	TokenPath      = "/latest/api/token"
	CredsPath      = "/latest/meta-data/ram/security-credentials/"
	TokenHeader    = "X-Aliyun-Ecs-Metadata-Token"             // canonical form
	TokenTTLHeader = "X-Aliyun-Ecs-Metadata-Token-Ttl-Seconds" // canonical form
)

// Options configure a Server. Source and Role are required.
type Options struct {
	Source       Source
	Role         string // the one role this listener serves
	RequireToken bool   // refuse token-less GETs with 401
	Clock        clock.Clock
	Log          *slog.Logger
	MaxTokens    int           // default DefaultMaxTokens
	Deadline     time.Duration // per credentials request; default DefaultDeadline
	// Limit holds each caller uid to its rate; nil means a limiter of
	// this Server's own with the defaults. The daemon shares one among
	// all its listeners.
	Limit *ratelimit.Limiter
	// Refusals records failed credentials requests in the operational
	// log, grouping repeats; nil records nothing.
	Refusals *refusal.Recorder
}

// Server is one ECS-metadata-compatible listener, bound to one role. Its
// tokens are its own: another Server refuses them.
type Server struct {
	o      Options
	log    *slog.Logger
	tokens *tokens
	guard  *guard
	role   []byte // the role list body: the name, no newline
}

// New returns a Server.
func New(o Options) *Server {
	o.Clock = clock.Or(o.Clock)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	return &Server{
		o:      o,
		log:    o.Log.With("component", "metadata", "role", o.Role),
		tokens: newTokens(o.Clock, o.MaxTokens),
		guard:  newGuard(o.Limit, o.Clock),
		role:   []byte(o.Role),
	}
}

// ServeHTTP answers the metadata protocol. Request targets in absolute
// form (through HTTP_PROXY), an empty query, "Ram" for "ram" and a Host
// without port are all accepted; every other path is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.guard.check(w, r); err != nil {
		s.refuse(w, r, err)
		return
	}
	if r.URL.Path == TokenPath {
		s.putToken(w, r)
		return
	}
	rest, ok := credentialsPath(r.URL.Path)
	if !ok {
		s.refuse(w, r, errNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	if err := s.checkToken(r); err != nil {
		s.refuse(w, r, err)
		return
	}
	switch rest {
	case "":
		h := w.Header()
		h["Content-Type"] = textType
		h["Cache-Control"] = noStore
		w.Write(s.role) // a failed write means the caller left
	case s.o.Role:
		s.credentials(w, r)
	default:
		s.refuse(w, r, errNotFound)
	}
}

// credentialsPath returns what follows .../security-credentials/, and
// reports whether p is under it. The "ram" segment matches in any case
// (ossutil v1 sends "Ram"); the trailing slash of the list is optional.
func credentialsPath(p string) (string, bool) {
	const meta, creds = "/latest/meta-data/", "/security-credentials"
	if !strings.HasPrefix(p, meta) || len(p) < len(meta)+3 || !strings.EqualFold(p[len(meta):len(meta)+3], "ram") {
		return "", false
	}
	p = p[len(meta)+3:]
	if !strings.HasPrefix(p, creds) {
		return "", false
	}
	p = p[len(creds):]
	if p == "" {
		return "", true
	}
	if p[0] != '/' {
		return "", false
	}
	return p[1:], true
}

func (s *Server) putToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		methodNotAllowed(w, "PUT")
		return
	}
	v := r.Header[TokenTTLHeader]
	if len(v) != 1 {
		s.refuse(w, r, errBadTTL)
		return
	}
	ttl, ok := parseTTL(v[0])
	if !ok {
		s.refuse(w, r, errBadTTL)
		return
	}
	tok := s.tokens.issue(ttl)
	h := w.Header()
	h["Content-Type"] = textType
	h["Cache-Control"] = noStore
	h[TokenTTLHeader] = v
	w.Write([]byte(tok.Reveal())) // the bare token, no newline; a failed write means the caller left
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("metadata token issued", "remote", r.RemoteAddr, "ttl", ttl)
	}
}

// checkToken enforces the token mode. A token that is sent must be valid
// in either mode, as on the real service; clients that get 401 with a token
// retry without one unless IMDSv1 is disabled.
func (s *Server) checkToken(r *http.Request) error {
	v := r.Header[TokenHeader]
	switch {
	case len(v) == 0 || len(v) == 1 && v[0] == "":
		if s.o.RequireToken {
			return errTokenRequired
		}
		return nil
	case len(v) == 1 && s.tokens.valid(v[0]):
		return nil
	}
	return errTokenInvalid
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Deadline)
	defer cancel()
	c, err := s.o.Source.Credentials(ctx, s.o.Role, "")
	if err != nil {
		credentialsError(w, r, s.o.Refusals, s.o.Role, err)
		return
	}
	writeCredentials(w, c)
	if s.log.Enabled(ctx, slog.LevelDebug) { // spare the hot path the arguments' allocations
		s.log.Debug("credentials served", "remote", r.RemoteAddr, "access_key_id", c.AccessKeyID)
	}
}

// writeCredentials writes the SPEC §1 body.
func writeCredentials(w http.ResponseWriter, c ossd.Credentials) {
	bp := bufPool.Get().(*[]byte)
	body := c.AppendJSON((*bp)[:0])
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	w.Write(body) // a failed write means the caller left
	*bp = body
	bufPool.Put(bp)
}

// bufPool holds response buffers; a credentials body is about 1 KiB.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("request refused", "remote", r.RemoteAddr, "method", r.Method, "err", err)
	writeError(w, err)
}

// Tokens reports how many metadata tokens the Server holds.
func (s *Server) Tokens() int { return s.tokens.len() }

package socket

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/service"
)

// Limits on what a caller may send.
const (
	maxHeaderBytes    = 8 << 10
	maxBodyBytes      = 64 << 10
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
	bodyTimeout       = 10 * time.Second
)

// Options configure a Server.
type Options struct {
	Service *service.Service
	Log     *slog.Logger
	// Extra routes (presign, status) registered by other packages, by
	// ServeMux pattern.
	Extra map[string]http.Handler
	// OnRequest, if set, is called after each request with the matched
	// route pattern ("" for none) and the status sent (metrics).
	OnRequest func(route string, status int)
	// Exec, if set, serves POST /v1/exec: registrations of ossd exec.
	Exec *execuri.Registry
	// Peers identifies callers; nil: Serve makes its own.
	Peers *peer.Finder
	// Limit holds each caller uid to its rate; nil means a limiter of
	// its own with the defaults. The daemon shares one among its listeners.
	Limit *ratelimit.Limiter
	// Refusals records refused credentials requests in the operational
	// log, grouping repeats; nil records nothing.
	Refusals *refusal.Recorder
}

// Server is the Unix socket API.
type Server struct {
	svc       *service.Service
	log       *slog.Logger
	mux       *http.ServeMux
	onRequest func(route string, status int)
	execReg   *execuri.Registry
	peers     *peer.Finder // nil: Serve makes one
	limit     *ratelimit.Limiter
	refusals  *refusal.Recorder
}

// New returns a Server.
func New(o Options) *Server {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := o.Limit
	if limit == nil {
		limit = ratelimit.New(ratelimit.Options{})
	}
	s := &Server{svc: o.Service, log: log.With("component", "socket"), mux: http.NewServeMux(), onRequest: o.OnRequest, execReg: o.Exec, peers: o.Peers,
		limit: limit, refusals: o.Refusals}
	s.mux.HandleFunc("/v1/credentials/{role}", s.credentials)
	s.mux.HandleFunc("/v1/roles", s.roles)
	s.mux.HandleFunc("/healthz", s.healthz)
	if o.Exec != nil {
		s.mux.HandleFunc(credproc.ExecPath, s.exec) // exec.go
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, CodeNotFound, "no such endpoint: " + truncate(r.URL.Path)})
	})
	for p, h := range o.Extra {
		s.mux.Handle(p, h)
	}
	return s
}

// ServeHTTP routes a request; callers over their rate get a JSON 429,
// unknown paths a 404 and oversized bodies a 413.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.limit.Allow(peer.FromContext(r.Context())) {
		writeError(w, ratelimit.ErrLimited)
		return
	}
	if r.ContentLength > maxBodyBytes {
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, CodeTooLarge, "request body over 64 KiB"})
		return
	}
	if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
		// ServeMux would answer a redirect with an HTML body.
		writeError(w, &apiError{http.StatusNotFound, CodeNotFound, "no such endpoint: path is not canonical"})
		return
	}
	if r.ContentLength != 0 { // unknown (-1) or positive: bound what handlers read, and how long
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		// An error means the connection cannot take deadlines; nothing to bound.
		_ = http.NewResponseController(w).SetReadDeadline(clock.Real{}.Now().Add(bodyTimeout))
	}
	if s.onRequest == nil {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.onRequest(r.Pattern, rec.status)
}

// statusRecorder remembers the status a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection: an exec
// registration takes it over.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, &apiError{http.StatusMethodNotAllowed, CodeMethod, r.Method + " not allowed; use " + strings.Join(methods, " or ")})
	return false
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	role := r.PathValue("role")
	session, err := sessionParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := s.svc.Credentials(r.Context(), role, session)
	if err != nil {
		ae := classify(err)
		s.refusals.Log(refusal.Refusal{Caller: peer.FromContext(r.Context()), Role: role, Status: ae.Status, Code: ae.Code, Err: err})
		writeError(w, ae)
		return
	}
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

// sessionParam returns the optional session suffix, refusing any other
// query parameter, a session given twice and a query that does not parse
// (url.Query would drop a ";" or a bad escape without a word, and take
// the first of two values).
func sessionParam(r *http.Request) (string, error) {
	if r.URL.RawQuery == "" {
		return "", nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", &apiError{http.StatusBadRequest, CodeBadRequest, "malformed query: want at most session=SUFFIX"}
	}
	for k, v := range q {
		if k != "session" {
			return "", &apiError{http.StatusBadRequest, CodeBadRequest, "unknown query parameter " + truncateQuote(k)}
		}
		if len(v) != 1 {
			return "", &apiError{http.StatusBadRequest, CodeBadRequest, "session given more than once"}
		}
	}
	return q.Get("session"), nil
}

func truncateQuote(s string) string { return `"` + truncate(s) + `"` }

var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"}
)

// Roles is the body of GET /v1/roles.
type Roles struct {
	Roles []service.RoleStatus `json:"roles"` // the roles the caller may have
	// Audit is "ok" while the audit log is written, "failing" while it
	// cannot be (credentials are then refused, 503 AuditFailed, unless
	// [audit] required = false); absent without an audit log.
	Audit string `json:"audit,omitempty"`
}

func (s *Server) roles(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Roles{Roles: s.svc.StatusFor(r.Context()), Audit: s.svc.AuditState()}); err != nil {
		s.log.Debug("write roles", "err", err)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n")) // a failed write means the caller left
}

// Serve answers on ln until ctx ends, then stops accepting, lets in-flight
// requests finish for up to 5 s, and returns (see [ServeGraceful]).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	peers := s.peers
	if peers == nil {
		peers = peer.New(peer.Options{Log: s.log})
		defer peers.Close()
	}
	srv := NewHTTPServer(s)
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return s.identify(ctx, peers, c) }
	return ServeGraceful(ctx, srv, ln, shutdownTimeout, s.log)
}

// identify attaches the kernel's word on who connected to every request on
// the connection.
func (s *Server) identify(ctx context.Context, peers *peer.Finder, c net.Conn) context.Context {
	if w, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = w.NetConn()
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	return peer.NewLazyContext(ctx, func() peer.Identity {
		id, err := peers.Unix(uc)
		if err != nil {
			s.log.Warn("cannot identify caller", "err", err)
		}
		id.Via = "socket"
		return id
	})
}

// NewHTTPServer returns an http.Server with the daemon's timeouts and limits.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		// No ReadTimeout or WriteTimeout: each would re-arm a deadline on
		// every request (4 % of throughput under load). Headers are bounded
		// by ReadHeaderTimeout, bodies by ServeHTTP's read deadline, and a
		// credentials answer fits in the socket buffer.
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug),
	}
}

package execuri

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
)

// Default bounds of a Registry.
const (
	DefaultMaxPerUID = 64
	DefaultMaxTotal  = 1024
)

// Refusals of a registration; the socket API maps each to its status.
var (
	ErrURIDisabled  = errors.New("the credentials URI endpoint is disabled: set [uri] listen in the daemon's config")
	ErrBadToken     = errors.New("the exec token must be 43 characters of base64url (256 random bits)")
	ErrTokenInUse   = errors.New("the exec token is already registered")
	ErrUnidentified = errors.New("the registering process could not be identified")
	ErrStopping     = errors.New("the daemon is stopping")
	ErrFull         = errors.New("too many exec URIs")
)

// FullError refuses a registration beyond the Registry's bounds.
type FullError struct {
	UID    uint32
	PerUID bool // the uid's bound was reached, not the total
	Limit  int
}

func (e *FullError) Error() string {
	if e.PerUID {
		return fmt.Sprintf("uid %d already holds %d exec URIs, the most one uid may hold; end some of its ossd exec commands", e.UID, e.Limit)
	}
	return fmt.Sprintf("the daemon already holds %d exec URIs, the most it keeps", e.Limit)
}

// Unwrap returns ErrFull.
func (e *FullError) Unwrap() error { return ErrFull }

// Options configure a Registry. Prepare and URL are required.
type Options struct {
	// Prepare authorises the caller in ctx for role and makes sure the
	// session holds a token; (*service.Service).Prepare.
	Prepare func(ctx context.Context, role, session string) error
	// URL returns the exec URI of token, or false while the credentials-URI
	// endpoint is disabled.
	URL   func(token string) (string, bool)
	Audit *audit.Logger // nil: nothing is audited
	// Refusals groups repeated refused registrations before they reach
	// Audit (package refusal); nil writes each in full.
	Refusals  *refusal.Recorder
	Log       *slog.Logger
	MaxPerUID int // default DefaultMaxPerUID
	MaxTotal  int // default DefaultMaxTotal
}

// Registry holds the live exec registrations.
type Registry struct {
	o   Options
	log *slog.Logger

	mu     sync.RWMutex // guards grants, perUID and closed
	grants map[[sha256.Size]byte]*Grant
	perUID map[uint32]int
	closed bool

	wg sync.WaitGroup // one per registered Grant until Hold or Drop returns
}

// Grant is one live registration.
type Grant struct {
	role, session string
	uri           string
	digest        [sha256.Size]byte
	caller        peer.Identity // the registering process

	mu   sync.Mutex // guards conn, end and writes to conn
	conn net.Conn   // nil until Hold
	end  string     // set by Registry.Run: why the registration ended
}

// New returns an empty Registry.
func New(o Options) *Registry {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxPerUID <= 0 {
		o.MaxPerUID = DefaultMaxPerUID
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = DefaultMaxTotal
	}
	return &Registry{
		o: o, log: o.Log.With("component", "exec"),
		grants: map[[sha256.Size]byte]*Grant{}, perUID: map[uint32]int{},
	}
}

// Grant returns the role and session the exec token serves, and reports
// whether it is registered. metadata.URIServer calls it for every request
// to an exec URI.
func (r *Registry) Grant(token string) (role, session string, ok bool) {
	if len(token) > 64 { // no digest of an arbitrarily long path; real tokens are 43 bytes
		return "", "", false
	}
	d := sha256.Sum256([]byte(token))
	r.mu.RLock()
	g, ok := r.grants[d]
	r.mu.RUnlock()
	if !ok {
		return "", "", false
	}
	return g.role, g.session, true
}

// Len reports how many registrations are live.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.grants)
}

// add registers g within the bounds.
func (r *Registry) add(g *Grant) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	uid := g.caller.UID
	switch {
	case r.closed:
		return ErrStopping
	case r.grants[g.digest] != nil:
		return ErrTokenInUse
	case r.perUID[uid] >= r.o.MaxPerUID:
		return &FullError{UID: uid, PerUID: true, Limit: r.o.MaxPerUID}
	case len(r.grants) >= r.o.MaxTotal:
		return &FullError{UID: uid, Limit: r.o.MaxTotal}
	}
	r.grants[g.digest] = g
	r.perUID[uid]++
	r.wg.Add(1)
	return nil
}

// remove revokes g.
func (r *Registry) remove(g *Grant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.grants[g.digest] != g {
		return
	}
	delete(r.grants, g.digest)
	if r.perUID[g.caller.UID]--; r.perUID[g.caller.UID] <= 0 {
		delete(r.perUID, g.caller.UID)
	}
}

// Drop revokes a grant that [Registry.Register] returned and that will
// never be held (the connection could not be taken over).
func (r *Registry) Drop(g *Grant) {
	r.remove(g)
	r.wg.Done()
}

// Run blocks until ctx ends, then refuses new registrations, ends every
// live one, telling its client the daemon is stopping, and waits for their
// Hold calls to return.
func (r *Registry) Run(ctx context.Context) error {
	<-ctx.Done()
	r.mu.Lock()
	r.closed = true
	live := make([]*Grant, 0, len(r.grants))
	for _, g := range r.grants {
		live = append(live, g)
	}
	r.mu.Unlock()
	for _, g := range live {
		g.stop(endShutdown)
	}
	r.wg.Wait()
	return nil
}

package localsts

import (
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

// DefaultAccountID is the account a Server reports when Config.AccountID is
// empty.
const DefaultAccountID = "1234567890123456"

// maxCallLog is how many entries CallLog keeps (the most recent ones).
const maxCallLog = 10000

// Config configures a Server. The zero value is usable.
type Config struct {
	// Clock gives the issue time and so the Expiration of tokens; nil means
	// the real clock.
	Clock clock.Clock
	// GatewayClock judges the ±15 min Timestamp window and the expiry of
	// STS. keys presented as callers; nil means the real clock, which is what
	// the SDK stamps requests with.
	GatewayClock clock.Clock
	// AccountID is the account that owns the source AccessKeys; it is used by
	// RoleARN. Empty means DefaultAccountID.
	AccountID string
}

// Call is one request the handler received.
type Call struct {
	At     time.Time  // Config.Clock time when the request arrived
	Params url.Values // query and form merged, Signature removed
	Status int        // HTTP status sent; 0 if none was (reset or canceled)
	Code   string     // error code sent, "" on success; see CodeReset and friends
	// SignedBy is the AccessKeyId whose signature (and, for an STS. key,
	// SecurityToken) the server verified; "" if the request failed before.
	SignedBy string
}

// Issued is one credential the Server handed out.
type Issued struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
	Expiration                                  time.Time
	RoleArn, SessionName                        string
	SignedBy                                    string // AccessKeyId that signed the AssumeRole: a source key, or an STS. key when chained
}

type role struct {
	arn, account, name string
	maxSession         time.Duration
	roleID             string // the digits of AssumedRoleId
}

// Server is a local STS 2015-04-01 AssumeRole endpoint. It is an
// http.Handler; see the package documentation for its behaviour.
type Server struct {
	clock   clock.Clock
	gateway clock.Clock
	account string

	mu        sync.Mutex // guards every field below
	keys      map[string]string
	roles     map[string]role
	issued    []Issued
	byKeyID   map[string]int // index into issued
	calls     int
	successes int
	callLog   []Call
	queue     []pendingFault
	sticky    *Fault
	skew      time.Duration
	lifetime  time.Duration
	nonces    nonceCache

	lnMu sync.Mutex // guards srv
	srv  *serverHandle
}

// New returns a Server with no AccessKeys and no roles.
func New(cfg Config) *Server {
	account := cfg.AccountID
	if account == "" {
		account = DefaultAccountID
	}
	return &Server{
		clock:   clock.Or(cfg.Clock),
		gateway: clock.Or(cfg.GatewayClock),
		account: account,
		keys:    make(map[string]string),
		roles:   make(map[string]role),
		byKeyID: make(map[string]int),
		nonces:  newNonceCache(),
	}
}

// RoleARN returns "acs:ram::<AccountID>:role/<name>".
func (s *Server) RoleARN(name string) string {
	return "acs:ram::" + s.account + ":role/" + name
}

// AddAccessKey allows the AccessKey id/secret to call AssumeRole.
func (s *Server) AddAccessKey(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = secret
}

// AddRole makes arn assumable for up to maxSessionDuration. It panics if arn
// is not a role ARN or the duration is outside 3600s..43200s, as RAM would
// refuse to create such a role.
func (s *Server) AddRole(arn string, maxSessionDuration time.Duration) {
	account, name, ok := parseRoleArn(arn)
	if !ok {
		panic(fmt.Sprintf("localsts: AddRole(%q): not acs:ram::<account>:role/<name>", arn))
	}
	if maxSessionDuration < time.Hour || maxSessionDuration > 12*time.Hour {
		panic(fmt.Sprintf("localsts: AddRole(%q, %v): want 1h..12h", arn, maxSessionDuration))
	}
	r := role{arn: arn, account: account, name: name, maxSession: maxSessionDuration,
		roleID: "3" + randomDigits(17)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = r
}

// Calls reports how many requests reached the handler, whatever their
// outcome.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Successes reports how many credentials were issued.
func (s *Server) Successes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.successes
}

// CallLog returns a copy of the most recent 10000 calls, in the order their
// answers were sent.
func (s *Server) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.callLog))
	for i, c := range s.callLog {
		c.Params = cloneValues(c.Params)
		out[i] = c
	}
	return out
}

// Issued returns every credential issued so far, oldest first.
func (s *Server) Issued() []Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issued(nil), s.issued...)
}

// SetSkew makes the gateway believe it is d later than GatewayClock says.
func (s *Server) SetSkew(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew = d
}

// SetTokenLifetime caps the lifetime of tokens issued from now on at d when
// d > 0 (short-lived tokens); 0 removes the cap.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

func (s *Server) gatewayNow() time.Time {
	s.mu.Lock()
	skew := s.skew
	s.mu.Unlock()
	return s.gateway.Now().Add(skew)
}

// beginCall counts a request and returns its arrival time.
func (s *Server) beginCall() time.Time {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return s.clock.Now()
}

// endCall records the outcome of a request.
func (s *Server) endCall(c Call) {
	c.Params = cloneValues(c.Params)
	c.Params.Del("Signature")
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.callLog) >= maxCallLog {
		s.callLog = append(s.callLog[:0], s.callLog[1:]...)
	}
	s.callLog = append(s.callLog, c)
}

// lookupSecret returns the secret of a source key or of a token this server
// issued, and the issued token when it is one.
func (s *Server) lookupSecret(id string) (secret string, tok *Issued, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.keys[id]; ok {
		return sec, nil, true
	}
	if i, ok := s.byKeyID[id]; ok {
		t := s.issued[i]
		return t.AccessKeySecret, &t, true
	}
	return "", nil, false
}

func (s *Server) lookupRole(arn string) (role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[arn]
	return r, ok
}

// issue mints a credential for r lasting d (capped by SetTokenLifetime),
// asked for by the key signedBy.
func (s *Server) issue(r role, session string, d time.Duration, signedBy string) Issued {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifetime > 0 && s.lifetime < d {
		d = s.lifetime
	}
	tok := Issued{
		AccessKeyID:     "STS." + randomAlnum(28),
		AccessKeySecret: randomAlnum(44),
		SecurityToken:   randomToken(),
		Expiration:      now.Add(d).UTC().Truncate(time.Second),
		RoleArn:         r.arn,
		SessionName:     session,
		SignedBy:        signedBy,
	}
	s.byKeyID[tok.AccessKeyID] = len(s.issued)
	s.issued = append(s.issued, tok)
	s.successes++
	return tok
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

package metadata

import (
	"container/list"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
)

// Token limits. The TTL range is the real metadata service's (SPEC §2).
const (
	MinTokenTTL      = 1
	MaxTokenTTL      = 21600
	DefaultMaxTokens = 10000
	tokenBytes       = 32
)

// tokens is a bounded set of metadata tokens with per-token expiry on the
// injected clock's monotonic time, so that a wall-clock step neither
// revives nor kills a token. When full, issuing a token evicts the oldest one: clients
// fetch a fresh token right before each GET (SPEC §2), so the tokens lost
// are the ones least likely to be used again, and a flood of PUTs cannot
// lock legitimate clients out, it can only race them.
type tokens struct {
	clk clock.Clock
	max int

	mu      sync.Mutex               // guards byValue and order
	byValue map[string]*list.Element // of *token
	order   *list.List               // oldest first
}

type token struct {
	value   string
	expires time.Duration // on the monotonic clock
}

func newTokens(clk clock.Clock, max int) *tokens {
	return &tokens{clk: clk, max: max, byValue: make(map[string]*list.Element), order: list.New()}
}

// parseTTL parses the TTL header: decimal digits only, 1..21600.
func parseTTL(s string) (time.Duration, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s) // fails for "" and on overflow
	if err != nil || n < MinTokenTTL || n > MaxTokenTTL {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// issue returns a new random token valid for ttl.
func (t *tokens) issue(ttl time.Duration) ossd.Secret {
	var b [tokenBytes]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on Linux; it crashes the program instead
	tok := &token{value: base64.RawURLEncoding.EncodeToString(b[:])}
	now := t.clk.Mono()
	tok.expires = now + ttl
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.order.Len() > 0 && (t.order.Len() >= t.max || t.front().expires <= now) {
		t.remove(t.order.Front())
	}
	t.byValue[tok.value] = t.order.PushBack(tok)
	return ossd.Secret(tok.value)
}

func (t *tokens) front() *token { return t.order.Front().Value.(*token) }

func (t *tokens) remove(e *list.Element) {
	delete(t.byValue, e.Value.(*token).value)
	t.order.Remove(e)
}

// valid reports whether s is a token this set issued that has not expired.
func (t *tokens) valid(s string) bool {
	now := t.clk.Mono()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byValue[s]
	if !ok {
		return false
	}
	if e.Value.(*token).expires <= now {
		t.remove(e)
		return false
	}
	return true
}

// len reports how many tokens are held, expired ones not yet dropped
// included.
func (t *tokens) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

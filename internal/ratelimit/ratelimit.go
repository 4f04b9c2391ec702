package ratelimit

import (
	"errors"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
)

// ErrLimited is the error of a request refused because its caller is over
// the rate. Front ends answer it with 429 and [Code].
var ErrLimited = errors.New("too many requests from this user; slow down")

// Code is the stable error code of a rate-limited request.
const Code = "TooManyRequests"

// Defaults, per caller uid. Well above what any client sends when it works
// as designed: the SDKs ask for credentials two or three times per refresh,
// and the OSS Go SDK v2, the heaviest, runs a credential helper on every
// request, which takes some 15 ms, so 1,000 a second is a user with about
// fifteen workers doing nothing else. A flooding user is held to a few per
// cent of what the daemon can serve.
const (
	DefaultRate  = 1000 // requests per second
	DefaultBurst = 2000
)

// MaxCallers bounds the buckets kept. Callers are keyed by uid, so this is
// the number of distinct users active at once.
const MaxCallers = 4096

// Options configure a Limiter. The zero value is the defaults on the real
// clock.
type Options struct {
	Rate  rate.Limit  // requests per second per caller; default DefaultRate
	Burst int         // default DefaultBurst
	Clock clock.Clock // nil = real
	// OnLimited, if set, is called with each refused caller (for the audit
	// and operational logs, which aggregate repeats).
	OnLimited func(peer.Identity)
}

// caller is the key of a bucket.
type caller struct {
	known bool // false: every unidentified caller shares one bucket
	uid   uint32
}

// Limiter holds callers to a rate.
type Limiter struct {
	clk       clock.Clock
	limit     rate.Limit
	burst     int
	onLimited func(peer.Identity)
	buckets   *lru.Cache[caller, *rate.Limiter] // safe for concurrent use on its own
}

// New returns a Limiter.
func New(o Options) *Limiter {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	b, _ := lru.New[caller, *rate.Limiter](MaxCallers) // fails only for a size <= 0
	return &Limiter{clk: clock.Or(o.Clock), limit: o.Rate, burst: o.Burst, onLimited: o.OnLimited, buckets: b}
}

// Allow reports whether the caller id may make one more request now, and
// counts it. A refused caller is reported to OnLimited.
func (l *Limiter) Allow(id peer.Identity) bool {
	k := caller{known: id.Known}
	if id.Known {
		k.uid = id.UID
	}
	b, ok := l.buckets.Get(k)
	if !ok {
		fresh := rate.NewLimiter(l.limit, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(k, fresh); found {
			b = prev
		} else {
			b = fresh
		}
	}
	// Monotonic time: a wall-clock step backwards would otherwise starve
	// every caller until the clock caught up.
	if b.AllowN(time.Time{}.Add(l.clk.Mono()), 1) {
		return true
	}
	if l.onLimited != nil {
		l.onLimited(id)
	}
	return false
}

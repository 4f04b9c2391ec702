package metadata

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/ossd/ossd/internal/clock"
)

// Rate-limit defaults: per client address, far above what any SDK sends
// (credentials-go makes three requests per refresh, and refreshes when 180 s
// of a token remain), so that only a runaway or hostile process meets them.
const (
	DefaultRate    = 100 // requests per second
	DefaultBurst   = 200
	maxClients     = 4096 // client addresses with a limiter; least recent evicted
	maxRequestBody = 1 << 10
)

// guard holds the checks every request passes before it is routed.
type guard struct {
	clk     clock.Clock
	limit   rate.Limit
	burst   int
	clients *lru.Cache[netip.Addr, *rate.Limiter]
}

func newGuard(clk clock.Clock, limit rate.Limit, burst int) *guard {
	if limit <= 0 {
		limit = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	c, _ := lru.New[netip.Addr, *rate.Limiter](maxClients) // fails only for a size <= 0
	return &guard{clk: clk, limit: limit, burst: burst, clients: c}
}

// check refuses requests that were forwarded by a proxy or a web
// application (the way real metadata services stop SSRF), requests a
// browser made (Referer, Origin, or a Host name other than localhost: DNS
// rebinding), and clients over their rate. It bounds the request body.
func (g *guard) check(w http.ResponseWriter, r *http.Request) error {
	h := r.Header
	switch {
	case h["X-Forwarded-For"] != nil || h["Forwarded"] != nil:
		return errForwarded
	case h["Referer"] != nil || h["Origin"] != nil:
		return errBrowser
	case !localHost(r.Host):
		return errHost
	case !g.allow(r.RemoteAddr):
		return errThrottled
	case r.ContentLength > maxRequestBody:
		return errTooLarge
	}
	if r.ContentLength != 0 { // unknown (-1) or small: bound what anyone reads
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	}
	return nil
}

// localHost reports whether host (a Host header, with or without port) is
// empty, an IP address, or localhost.
func localHost(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1] // an IPv6 literal without port
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// allow reports whether the client at remote (ip:port) is within its rate.
func (g *guard) allow(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return true // not TCP (a test's pipe): nothing to key a limit on
	}
	addr := ap.Addr().Unmap()
	lim, ok := g.clients.Get(addr)
	if !ok {
		fresh := rate.NewLimiter(g.limit, g.burst)
		if prev, found, _ := g.clients.PeekOrAdd(addr, fresh); found {
			lim = prev
		} else {
			lim = fresh
		}
	}
	// The limiter runs on monotonic time: a wall-clock step backwards would
	// otherwise starve every client until the clock caught up.
	return lim.AllowN(time.Time{}.Add(g.clk.Mono()), 1)
}

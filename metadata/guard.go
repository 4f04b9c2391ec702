package metadata

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
)

// maxRequestBody bounds a request body; the protocol has none but a
// token PUT's empty one.
const maxRequestBody = 1 << 10

// guard holds the checks every request passes before it is routed.
type guard struct {
	limit *ratelimit.Limiter
}

// newGuard returns a guard holding callers to limit, or to a limiter of
// its own with the defaults on clk when limit is nil.
func newGuard(limit *ratelimit.Limiter, clk clock.Clock) *guard {
	if limit == nil {
		limit = ratelimit.New(ratelimit.Options{Clock: clk})
	}
	return &guard{limit: limit}
}

// check refuses requests that were forwarded by a proxy or a web
// application (the way real metadata services stop SSRF), requests a
// browser made (Referer, Origin, or a Host name other than localhost: DNS
// rebinding), and callers over their uid's rate (never an address's: every
// local user can connect from any of 127.0.0.0/8). It bounds the request
// body.
func (g *guard) check(w http.ResponseWriter, r *http.Request) error {
	h := r.Header
	switch {
	case h["X-Forwarded-For"] != nil || h["Forwarded"] != nil:
		return errForwarded
	case h["Referer"] != nil || h["Origin"] != nil:
		return errBrowser
	case !localHost(r.Host):
		return errHost
	case !g.limit.Allow(peer.FromContext(r.Context())):
		return ratelimit.ErrLimited
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

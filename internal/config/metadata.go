package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

// Token modes of a [[metadata]] listener.
const (
	// TokensOptional accepts requests with or without a metadata token (a
	// token that is sent must be valid). It is the default: OSS v2, oss2
	// and ossutil never fetch a token (SPEC §2).
	TokensOptional = "optional"
	// TokensRequired refuses token-less requests with 401.
	TokensRequired = "required"
)

// MetadataAddr is the address of the real ECS metadata service. A
// [[metadata]] listener may bind it without allow_non_loopback: it is only
// reachable inside the network namespace that owns it (a sidecar).
const MetadataAddr = "100.100.100.200"

// Metadata is one ECS-metadata-compatible listener ([[metadata]]), bound to
// exactly one role.
type Metadata struct {
	// Listen is host:port, with host an IP address or "localhost". It must
	// be a loopback address or 100.100.100.200 unless AllowNonLoopback.
	Listen string `toml:"listen"`
	Role   string `toml:"role"`   // the [[role]] this listener serves; required
	Tokens string `toml:"tokens"` // "optional" (default when empty) or "required"
	// AllowNonLoopback lets Listen be any address. Anyone who can reach it
	// gets the role's credentials; use it only on an interface no other
	// host or container can reach.
	AllowNonLoopback bool `toml:"allow_non_loopback"`
}

// TokensRequired reports whether the listener refuses token-less requests.
func (m Metadata) TokensRequired() bool { return m.Tokens == TokensRequired }

// URI configures the credentials-URI endpoint ([uri]).
type URI struct {
	// Listen is a loopback host:port; empty disables the endpoint.
	Listen string `toml:"listen"`
	// StateDir holds the key that the per-role URLs derive from, so they
	// survive restarts. Absolute; empty means the default, see cmd/ossd.
	StateDir string `toml:"state_dir"`
}

func (c *Config) validateMetadata(p *problems) {
	seen := make(map[string]string) // normalised listen address -> field
	for i, m := range c.Metadata {
		prefix := fmt.Sprintf("metadata[%d]", i)
		if addr, ok := m.validateListen(p, prefix+".listen"); ok {
			checkDuplicate(p, seen, addr, prefix+".listen")
		}
		switch {
		case m.Role == "":
			p.addf(prefix+".role", "required: the name of the [[role]] this listener serves")
		default:
			if _, ok := c.Role(m.Role); !ok {
				p.addf(prefix+".role", "no [[role]] named %s", quote(m.Role))
			}
		}
		switch m.Tokens {
		case "", TokensOptional, TokensRequired:
		default:
			p.addf(prefix+".tokens", "unknown mode %s: want %q or %q", quote(m.Tokens), TokensOptional, TokensRequired)
		}
	}
	if c.URI.Listen != "" {
		if addr, ok := c.URI.validateListen(p); ok {
			checkDuplicate(p, seen, addr, "uri.listen")
		}
	}
	if d := c.URI.StateDir; d != "" && (!filepath.IsAbs(d) || strings.ContainsRune(d, 0)) {
		p.addf("uri.state_dir", "%s must be an absolute path", quote(d))
	}
}

func checkDuplicate(p *problems, seen map[string]string, addr, field string) {
	if other, dup := seen[addr]; dup {
		p.addf(field, "duplicate listen address %s (also %s)", addr, other)
		return
	}
	seen[addr] = field
}

func (m Metadata) validateListen(p *problems, field string) (string, bool) {
	host, port, ok := splitListen(p, field, m.Listen)
	if !ok {
		return "", false
	}
	if !m.AllowNonLoopback && !loopback(host) && host != MetadataAddr {
		p.addf(field, "%s is not a loopback address or %s: anyone who can reach it gets the role's credentials; set allow_non_loopback = true if that is intended", quote(m.Listen), MetadataAddr)
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

func (u URI) validateListen(p *problems) (string, bool) {
	host, port, ok := splitListen(p, "uri.listen", u.Listen)
	if !ok {
		return "", false
	}
	if !loopback(host) {
		p.addf("uri.listen", "%s is not a loopback address: the credentials URI serves only this host", quote(u.Listen))
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

// splitListen checks that s is host:port with host an IP address or
// "localhost" and port 1..65535, and returns both.
func splitListen(p *problems, field, s string) (host, port string, ok bool) {
	if s == "" {
		p.addf(field, "required: host:port, such as 127.0.0.1:8100")
		return "", "", false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		p.addf(field, "malformed address %s: want host:port, such as 127.0.0.1:8100", quote(s))
		return "", "", false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		p.addf(field, "port %s out of range 1..65535", quote(port))
		return "", "", false
	}
	switch ip, err := netip.ParseAddr(host); {
	case host == "localhost":
	case host == "":
		host = "0.0.0.0" // all interfaces: not loopback
	case err != nil || ip.Zone() != "":
		p.addf(field, "host %s must be an IP address or localhost", quote(host))
		return "", "", false
	default:
		host = ip.Unmap().String()
	}
	return host, port, true
}

// loopback reports whether host, as normalised by splitListen, is a loopback
// address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

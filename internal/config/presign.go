package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Presign settings and their bounds.
const (
	// DefaultPresignMaxExpires is the longest URL a role signs unless
	// max_expires says otherwise. It is what the OSS SDKs sign by default,
	// and the cached token, which always has more than refresh.floor left,
	// covers it without another AssumeRole call.
	DefaultPresignMaxExpires = 15 * time.Minute
	// PresignSlack is how much shorter than max_session_duration the
	// longest URL must be. ossd keeps each longer session it fetches for
	// URLs for 5 minutes and asks STS for 5 minutes more than the URL needs,
	// so that every URL signed in that time is still covered.
	PresignSlack = 5 * time.Minute
	// MaxObjectKey is the longest object key OSS accepts, in bytes.
	MaxObjectKey = 1023

	// URL styles, as the OSS SDK names them.
	URLStyleVirtual = "virtual" // https://bucket.endpoint/key (default)
	URLStylePath    = "path"    // https://endpoint/bucket/key
	URLStyleCName   = "cname"   // https://endpoint/key; the endpoint is the bucket's own domain
)

// PresignMethods lists the HTTP methods a signed URL may be for, for
// messages; see [ValidPresignMethod].
const PresignMethods = "GET, PUT, HEAD, POST, DELETE"

// ValidPresignMethod reports whether a signed URL may be for method m
// (upper case).
func ValidPresignMethod(m string) bool {
	switch m {
	case "GET", "PUT", "HEAD", "POST", "DELETE":
		return true
	}
	return false
}

// Presign is a role's URL-signing policy ([role.presign]). A role without
// buckets cannot presign. Empty fields take the defaults that
// [Role.PresignPolicy] fills in.
type Presign struct {
	// Buckets the role may sign URLs for; required. Names, not patterns:
	// "*" is refused.
	Buckets []string `toml:"buckets,omitempty"`
	// Prefixes the object key must start with; default [""], any key.
	Prefixes []string `toml:"prefixes,omitempty"`
	// Methods the URL may be for; default ["GET"].
	Methods []string `toml:"methods,omitempty"`
	// MaxExpires is the longest URL validity; default 15m, at most
	// max_session_duration - 5m.
	MaxExpires Duration `toml:"max_expires"`
	// MaxSessionDuration is the longest STS session ossd may request for
	// this role when a URL would outlive the cached token; 15m..12h and no
	// more than the role's MaxSessionDuration in RAM. Default: duration.
	MaxSessionDuration Duration `toml:"max_session_duration"`
	// Region of the buckets, for the V4 signature and the default
	// endpoint; a request may name its own.
	Region string `toml:"region"`
	// Endpoint is http(s)://host[:port]; default https://oss-<region>.aliyuncs.com,
	// or with CloudBoxID https://<cloudbox_id>.<region>.oss-cloudbox.aliyuncs.com.
	Endpoint string `toml:"endpoint"`
	// CloudBoxID, such as cb-f8z7yvzgwfkl9q0h, has V4 URLs signed for that
	// OSS on CloudBox (see [CheckCloudBox]); a request may name its own.
	CloudBoxID string `toml:"cloudbox_id"`
	// URLStyle is "virtual" (default), "path" or "cname".
	URLStyle string `toml:"url_style"`
}

// enabled reports whether any presign setting is present; an empty list
// written out counts.
func (p Presign) enabled() bool {
	return p.Buckets != nil || p.Prefixes != nil || p.Methods != nil || p.MaxExpires != 0 ||
		p.MaxSessionDuration != 0 || p.Region != "" || p.Endpoint != "" || p.URLStyle != "" || p.CloudBoxID != ""
}

// PresignPolicy returns r's presign policy with every default filled in, and
// reports whether r may presign at all: only a role with buckets may.
func (r Role) PresignPolicy() (Presign, bool) {
	p := r.Presign
	if len(p.Buckets) == 0 {
		return Presign{}, false
	}
	if len(p.Prefixes) == 0 {
		p.Prefixes = []string{""}
	}
	if len(p.Methods) == 0 {
		p.Methods = []string{"GET"}
	}
	if p.MaxSessionDuration == 0 {
		p.MaxSessionDuration = r.Duration
		if p.MaxSessionDuration == 0 {
			p.MaxSessionDuration = Duration(DefaultDuration)
		}
	}
	if p.MaxExpires == 0 {
		p.MaxExpires = min(Duration(DefaultPresignMaxExpires), p.MaxSessionDuration-Duration(PresignSlack))
	}
	if p.URLStyle == "" {
		p.URLStyle = URLStyleVirtual
	}
	return p, true
}

func (c *Config) validatePresign(p *problems) {
	for i, r := range c.Roles {
		if r.Presign.enabled() {
			r.validatePresign(p, fmt.Sprintf("role[%d].presign", i))
		}
	}
}

func (r Role) validatePresign(p *problems, prefix string) {
	ps := r.Presign
	if len(ps.Buckets) == 0 {
		p.addf(prefix+".buckets", "required: the buckets this role may sign URLs for")
	}
	for j, b := range ps.Buckets {
		p.add(fmt.Sprintf("%s.buckets[%d]", prefix, j), ValidBucketName(b))
	}
	if ps.Prefixes != nil && len(ps.Prefixes) == 0 {
		p.addf(prefix+".prefixes", `empty: list at least one prefix ("" allows any key), or leave it out`)
	}
	if ps.Methods != nil && len(ps.Methods) == 0 {
		p.addf(prefix+".methods", `empty: list at least one method, or leave it out for ["GET"]`)
	}
	for j, k := range ps.Prefixes {
		checkPrefix(p, fmt.Sprintf("%s.prefixes[%d]", prefix, j), k)
	}
	for j, m := range ps.Methods {
		if !ValidPresignMethod(m) {
			p.addf(fmt.Sprintf("%s.methods[%d]", prefix, j), "unknown method %s: want one of %s", quote(m), PresignMethods)
		}
	}
	maxSession := ps.MaxSessionDuration
	if maxSession != 0 {
		checkWholeDuration(p, prefix+".max_session_duration", maxSession, minRoleDuration, maxRoleDuration)
	} else if maxSession = r.Duration; maxSession == 0 {
		maxSession = Duration(DefaultDuration)
	}
	if longest := maxSession - Duration(PresignSlack); ps.MaxExpires > longest {
		p.addf(prefix+".max_expires", "%s is more than max_session_duration (%s) minus 5m: no STS session ossd may fetch outlives such a URL", ps.MaxExpires, maxSession)
	} else if ps.MaxExpires != 0 {
		checkWholeDuration(p, prefix+".max_expires", ps.MaxExpires, time.Second, time.Duration(longest))
	}
	if ps.Region != "" && !validRegion(ps.Region) {
		p.addf(prefix+".region", "malformed region %s: want lower-case words joined by '-', like cn-hangzhou", quote(ps.Region))
	}
	r.validatePresignEndpoint(p, prefix)
	switch ps.URLStyle {
	case "", URLStyleVirtual, URLStylePath, URLStyleCName:
	default:
		p.addf(prefix+".url_style", "unknown style %s: want %q, %q or %q", quote(ps.URLStyle), URLStyleVirtual, URLStylePath, URLStyleCName)
	}
}

// validatePresignEndpoint checks the endpoint and the CloudBox id, alone
// and together.
func (r Role) validatePresignEndpoint(p *problems, prefix string) {
	ps := r.Presign
	var idErr error
	if ps.CloudBoxID != "" {
		idErr = ValidCloudBoxID(ps.CloudBoxID)
		p.add(prefix+".cloudbox_id", idErr)
	}
	if ps.Endpoint == "" {
		return
	}
	if err := validEndpoint(ps.Endpoint); err != nil {
		p.add(prefix+".endpoint", err)
		return
	}
	if u, err := url.Parse(ps.Endpoint); err == nil && idErr == nil { // validEndpoint parsed it
		p.add(prefix+".endpoint", CheckCloudBox(u.Hostname(), ps.CloudBoxID))
	}
}

// DotSegment returns the first "." or ".." path segment of key, with both
// '/' and '\' as separators (browsers and some servers take '\' for '/'),
// and reports whether there is one. Clients and servers resolve such
// segments (RFC 3986 section 5.2.4), so a URL for uploads/../x reaches x:
// a key with one would name another object than the one its prefix was
// checked for. Without dot segments, what a normalising server can still do,
// merge empty segments, never moves a key out of a prefix it starts with.
func DotSegment(key string) (string, bool) {
	for len(key) > 0 {
		i := strings.IndexAny(key, `/\`)
		if i < 0 {
			i = len(key)
		}
		if seg := key[:i]; seg == "." || seg == ".." {
			return seg, true
		}
		key = key[min(i+1, len(key)):]
	}
	return "", false
}

// checkPrefix reports a prefix no key can be signed under: too long, not
// UTF-8, or with a whole "." or ".." segment (keys under it have one too).
// Its last segment may be partial: "a/.." still matches "a/..b".
func checkPrefix(p *problems, field, k string) {
	if len(k) > MaxObjectKey || !utf8.ValidString(k) {
		p.addf(field, "%s: want valid UTF-8 of at most %d bytes", quote(k), MaxObjectKey)
		return
	}
	if i := strings.LastIndexAny(k, `/\`); i >= 0 {
		if seg, ok := DotSegment(k[:i]); ok {
			p.addf(field, "%s has a %q path segment: keys with one are never signed (clients resolve it to another object)", quote(k), seg)
		}
	}
}

// checkWholeDuration reports d outside lo..hi or not a whole number of
// seconds.
func checkWholeDuration(p *problems, field string, d Duration, lo, hi time.Duration) {
	switch v := time.Duration(d); {
	case v < lo || v > hi:
		p.add(field, rangeError(d, lo, hi))
	case v%time.Second != 0:
		p.addf(field, "%s is not a whole number of seconds", d)
	}
}

// ValidBucketName reports whether s is an OSS bucket name: 3-63 of
// lower-case letters, digits and '-', not starting or ending with '-'.
func ValidBucketName(s string) error {
	if s == "*" {
		return fmt.Errorf(`bucket "*": list the bucket names; patterns are not supported`)
	}
	ok := len(s) >= 3 && len(s) <= 63 && s[0] != '-' && s[len(s)-1] != '-'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("malformed bucket name %s: want 3-63 of a-z, 0-9 and '-', not starting or ending with '-'", quote(s))
	}
	return nil
}

// ValidRegion reports whether s looks like a region id, such as cn-hangzhou,
// safe to put in a host name.
func ValidRegion(s string) bool { return validRegion(s) }

// ValidEndpoint reports whether s is http(s)://host[:port] and nothing more.
func ValidEndpoint(s string) error { return validEndpoint(s) }

package presign

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/config"
)

// Request is what a caller asks to have signed: the body of
// POST /v1/presign. Only Role, Bucket and Key are required.
type Request struct {
	Role     string `json:"role"`
	Method   string `json:"method,omitempty"`  // GET (default), PUT, HEAD, POST or DELETE
	Bucket   string `json:"bucket"`            // OSS bucket name
	Key      string `json:"key"`               // object key, as is: no escaping
	Expires  string `json:"expires,omitempty"` // validity, "90s" or "1h"; default 15m or the policy's max_expires if less
	Version  string `json:"version,omitempty"` // "v4" (default) or "v1"
	Region   string `json:"region,omitempty"`  // default the policy's region
	Endpoint string `json:"endpoint,omitempty"`
	// URLStyle is "virtual", "path" or "cname"; default the policy's.
	URLStyle string `json:"url_style,omitempty"`
	// CloudBoxID, such as cb-f8z7yvzgwfkl9q0h, signs the URL for that OSS on
	// CloudBox; default the policy's cloudbox_id.
	CloudBoxID string `json:"cloudbox_id,omitempty"`
	// Headers the URL's user must send, signed into the URL: Content-Type,
	// Content-MD5 and x-oss-* with either version; others only with V4.
	Headers map[string]string `json:"headers,omitempty"`
	// Query holds sub-resources to sign into the URL, such as versionId or
	// response-content-disposition; see [Subresources].
	Query map[string]string `json:"query,omitempty"`
}

// Signature versions.
const (
	V4 = "v4"
	V1 = "v1"
)

// Limits of a request.
const (
	DefaultExpires = 15 * time.Minute
	MaxExpiresV4   = 7 * 24 * time.Hour // OSS refuses x-oss-expires over 604800
	maxHeaders     = 32
	maxQuery       = 32
	maxValue       = 4 << 10
)

// Subresources lists the query parameters a caller may sign into a URL.
// They keep the URL to the object operations its method names: reading a
// version, overriding the response headers, processing images, limiting
// bandwidth, and the parts of a multipart upload. Others, such as acl or
// tagging, would make a PUT URL change more than the object.
const Subresources = "versionId, response-content-type, response-content-language, response-expires, " +
	"response-cache-control, response-content-disposition, response-content-encoding, " +
	"x-oss-process, x-oss-traffic-limit, uploads, uploadId, partNumber"

// subresource reports whether k is one of [Subresources].
func subresource(k string) bool {
	switch k {
	case "versionId", "response-content-type", "response-content-language", "response-expires",
		"response-cache-control", "response-content-disposition", "response-content-encoding",
		"x-oss-process", "x-oss-traffic-limit", "uploads", "uploadId", "partNumber":
		return true
	}
	return false
}

// reservedHeader reports whether the canonical header ck is set by the HTTP
// client or the signature, never by a caller.
func reservedHeader(ck string) bool {
	switch ck {
	case "Authorization", "Connection", "Content-Length", "Date", "Expect", "Host", "Transfer-Encoding",
		"X-Oss-Date", "X-Oss-Security-Token", "X-Oss-Content-Sha256":
		return true
	}
	return false
}

// Input is a checked request with the policy's defaults applied, ready to
// sign.
type Input struct {
	Method   string
	Bucket   string
	Key      string
	Expires  time.Duration // whole seconds
	Version  string
	Region   string   // the bucket's region; may be empty with a CloudBoxID and an endpoint
	Endpoint *url.URL // scheme and host only
	URLStyle string
	Header   http.Header // canonical names, one value each
	Query    map[string]string
	// CloudBoxID, when set, replaces Region in the V4 scope, whose product
	// is then oss-cloudbox, as in the SDK.
	CloudBoxID string
}

// check validates everything in r that does not depend on the role.
func (r *Request) check() (*Input, error) {
	in := &Input{Method: strings.ToUpper(r.Method), Bucket: r.Bucket, Key: r.Key, Version: strings.ToLower(r.Version), URLStyle: r.URLStyle}
	if in.Method == "" {
		in.Method = "GET"
	}
	if !config.ValidPresignMethod(in.Method) {
		return nil, badRequest(CodeInvalidMethod, "method %s: want one of %s", quote(r.Method), config.PresignMethods)
	}
	if err := config.ValidBucketName(r.Bucket); err != nil {
		return nil, badRequest(CodeInvalidBucket, "%v", err)
	}
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	if in.Version == "" {
		in.Version = V4
	}
	if in.Version != V4 && in.Version != V1 {
		return nil, badRequest(CodeInvalidVersion, "version %s: want %q or %q", quote(r.Version), V4, V1)
	}
	if err := in.checkExpires(r.Expires); err != nil {
		return nil, err
	}
	if r.Region != "" && !config.ValidRegion(r.Region) {
		return nil, badRequest(CodeInvalidRegion, "region %s: want lower-case words joined by '-', like cn-hangzhou", quote(r.Region))
	}
	if r.CloudBoxID != "" {
		if err := config.ValidCloudBoxID(r.CloudBoxID); err != nil {
			return nil, badRequest(CodeInvalidCloudBox, "%v", err)
		}
	}
	switch r.URLStyle {
	case "", config.URLStyleVirtual, config.URLStylePath, config.URLStyleCName:
	default:
		return nil, badRequest(CodeInvalidStyle, "url_style %s: want %q, %q or %q", quote(r.URLStyle), config.URLStyleVirtual, config.URLStylePath, config.URLStyleCName)
	}
	var err error
	if in.Header, err = checkHeaders(r.Headers, in.Version); err != nil {
		return nil, err
	}
	if in.Query, err = checkQuery(r.Query); err != nil {
		return nil, err
	}
	return in, nil
}

// checkKey refuses a key OSS would refuse, and one with a "." or ".." path
// segment (see [config.DotSegment]).
func checkKey(k string) error {
	switch {
	case k == "":
		return badRequest(CodeInvalidKey, "key is empty")
	case len(k) > config.MaxObjectKey:
		return badRequest(CodeInvalidKey, "key is %d bytes, want at most %d", len(k), config.MaxObjectKey)
	case !utf8.ValidString(k):
		return badRequest(CodeInvalidKey, "key is not valid UTF-8")
	}
	if seg, ok := config.DotSegment(k); ok {
		return badRequest(CodeInvalidKey, "key %s has a %q path segment: clients and servers resolve it, so the URL would reach another object than the one the role's prefixes were checked for", quote(k), seg)
	}
	return nil
}

// checkExpires parses s into in.Expires; empty leaves it zero, for the
// policy's default.
func (in *Input) checkExpires(s string) error {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return badRequest(CodeInvalidExpires, "expires %s: want a duration like \"900s\" or \"1h\"", quote(s))
	case d < time.Second || d%time.Second != 0:
		return badRequest(CodeInvalidExpires, "expires %s: want a whole number of seconds, at least 1s", quote(s))
	case in.Version == V4 && d > MaxExpiresV4:
		return badRequest(CodeInvalidExpires, "expires %s: a V4 signature is valid for at most 7 days (604800s)", quote(s))
	}
	in.Expires = d
	return nil
}

// checkHeaders returns hs in canonical form, refusing what cannot be signed.
func checkHeaders(hs map[string]string, version string) (http.Header, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	if len(hs) > maxHeaders {
		return nil, badRequest(CodeInvalidHeader, "%d headers, want at most %d", len(hs), maxHeaders)
	}
	out := make(http.Header, len(hs))
	for k, v := range hs {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !validToken(k):
			return nil, badRequest(CodeInvalidHeader, "header name %s is not an HTTP token", quote(k))
		case v == "" || len(v) > maxValue || !validValue(v):
			return nil, badRequest(CodeInvalidHeader, "header %s: want a non-empty value of at most %d bytes without control characters", quote(k), maxValue)
		case reservedHeader(ck):
			return nil, badRequest(CodeInvalidHeader, "header %s is set by the client or the signature, not by the caller", quote(k))
		case out[ck] != nil:
			return nil, badRequest(CodeInvalidHeader, "header %s given twice", quote(ck))
		case version == V1 && !signedByDefault(ck):
			return nil, badRequest(CodeInvalidHeader, "header %s cannot be signed with V1 (only Content-Type, Content-MD5 and x-oss-*); use V4", quote(k))
		}
		out[ck] = []string{v}
	}
	return out, nil
}

// signedByDefault reports whether both signature versions sign header ck.
func signedByDefault(ck string) bool {
	return ck == "Content-Type" || ck == "Content-Md5" || strings.HasPrefix(ck, "X-Oss-")
}

func checkQuery(q map[string]string) (map[string]string, error) {
	if len(q) == 0 {
		return nil, nil
	}
	if len(q) > maxQuery {
		return nil, badRequest(CodeInvalidQuery, "%d query parameters, want at most %d", len(q), maxQuery)
	}
	for k, v := range q {
		if !subresource(k) {
			return nil, badRequest(CodeInvalidQuery, "query parameter %s cannot be signed; supported: %s", quote(k), Subresources)
		}
		if len(v) > maxValue || !utf8.ValidString(v) {
			return nil, badRequest(CodeInvalidQuery, "query parameter %s: want valid UTF-8 of at most %d bytes", quote(k), maxValue)
		}
	}
	return q, nil
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validValue reports whether s is a header value without control
// characters (tab allowed) and valid UTF-8.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// parseEndpoint accepts http(s)://host[:port], or a bare host[:port] taken
// as https, as the SDK does.
func parseEndpoint(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	if err := config.ValidEndpoint(s); err != nil {
		return nil, badRequest(CodeInvalidEndpoint, "%v", err)
	}
	u, err := url.Parse(s)
	if err != nil { // ValidEndpoint parsed it already
		return nil, badRequest(CodeInvalidEndpoint, "endpoint %s: %v", quote(s), err)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// pathStyleHost reports whether the SDK would force path-style URLs for u:
// it does for an IP address.
func pathStyleHost(u *url.URL) bool { return net.ParseIP(u.Hostname()) != nil }

// quote quotes s for a message, cut to a readable length.
func quote(s string) string {
	const limit = 100
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

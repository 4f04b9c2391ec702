package presign_test

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/presign"
)

// FuzzPrepare feeds arbitrary requests through checking and signing. The
// properties:
//   - Prepare never panics, and its errors are *presign.Error;
//   - whatever is accepted signs into a URL whose path decodes back to the
//     bucket and key asked for;
//   - the same request for a CloudBox, if accepted, is signed for it (V4);
//   - a key accepted under a policy with prefixes never has a "." or ".."
//     path segment ('/' and '\' both separate), and stays within one of the
//     allowed prefixes after the normalisation a client or server may apply
//     (RFC 3986 dot-segment removal, '\' taken as '/', empty segments
//     merged): no spelling of a key reaches an object outside the prefixes.
func FuzzPrepare(f *testing.F) {
	for _, tc := range sdkCases() {
		r := tc.request()
		hk, hv, qk, qv := "", "", "", ""
		for k, v := range r.Headers {
			hk, hv = k, v
		}
		for k, v := range r.Query {
			qk, qv = k, v
		}
		f.Add(r.Method, r.Bucket, r.Key, r.Expires, r.Version, r.Endpoint, r.URLStyle, hk, hv, qk, qv)
	}
	for _, tc := range refusals {
		r := tc.req
		f.Add(r.Method, r.Bucket, r.Key, r.Expires, r.Version, r.Endpoint, r.URLStyle, "", "", "", "")
	}
	for _, key := range []string{"uploads/../../x", "uploads//../x", "../uploads/x", "uploads/.\\x", "uploads/..x", "tmp/a/b/../c"} {
		f.Add("PUT", "example-bucket-01", key, "", "", "", "", "", "", "", "")
	}
	f.Fuzz(func(t *testing.T, method, bucket, key, expires, version, endpoint, style, hk, hv, qk, qv string) {
		r := &presign.Request{Role: "r", Method: method, Bucket: bucket, Key: key, Expires: expires, Version: version,
			Endpoint: endpoint, URLStyle: style, Region: "cn-hangzhou"}
		if hk != "" {
			r.Headers = map[string]string{hk: hv}
		}
		if qk != "" {
			r.Query = map[string]string{qk: qv}
		}
		for _, k := range []string{key, "uploads/" + key} {
			r := *r
			r.Key = k
			if _, err := presign.Prepare(&r, prefixPolicy); err == nil {
				checkWithinPrefix(t, k, prefixPolicy.Prefixes)
			}
		}
		checkCloudBoxScope(t, *r)
		in, err := presign.Prepare(r, openPolicy)
		if err != nil {
			if _, ok := err.(*presign.Error); !ok {
				t.Fatalf("Prepare error %T %v is not an *Error", err, err)
			}
			return
		}
		res, err := presign.Sign(in, testCreds, time.Unix(1900000000, 0))
		if err != nil {
			t.Fatalf("Sign(accepted request): %v", err)
		}
		u, err := url.Parse(res.URL)
		if err != nil {
			t.Fatalf("signed URL %q does not parse: %v", res.URL, err)
		}
		path := "/" + key
		switch {
		case in.URLStyle == config.URLStylePath || net.ParseIP(u.Hostname()) != nil:
			path = "/" + bucket + "/" + key
		case in.URLStyle == config.URLStyleCName:
		default:
			if !strings.HasPrefix(u.Host, bucket+".") {
				t.Errorf("host %s lacks the bucket %s", u.Host, bucket)
			}
		}
		if u.Path != path {
			t.Errorf("URL path %q, want %q", u.Path, path)
		}
		if q := u.Query(); q.Get("x-oss-signature")+q.Get("Signature") == "" {
			t.Errorf("URL has no signature: %s", res.URL)
		}
	})
}

// prefixPolicy is openPolicy limited to two prefixes.
var prefixPolicy = func() config.Presign {
	p := openPolicy
	p.Prefixes = []string{"uploads/", "tmp/a"}
	return p
}()

// checkWithinPrefix fails t unless key, accepted under prefixes, has no dot
// segment and still starts with one of them once normalised.
func checkWithinPrefix(t *testing.T, key string, prefixes []string) {
	t.Helper()
	segs := strings.FieldsFunc(key, func(r rune) bool { return r == '/' || r == '\\' })
	if slices.Contains(segs, ".") || slices.Contains(segs, "..") {
		t.Fatalf("accepted key %q has a dot segment", key)
	}
	norm := normalise(key)
	if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(norm, normalise(p)) }) {
		t.Fatalf("accepted key %q normalises to %q, outside the prefixes %q", key, norm, prefixes)
	}
}

// normalise resolves key as a lenient server would resolve the path
// "/"+key: '\' is '/', empty segments merge, "." goes, ".." drops the
// segment before it (RFC 3986 section 5.2.4). A trailing separator stays.
func normalise(key string) string {
	var out []string
	segs := strings.Split(strings.ReplaceAll(key, "\\", "/"), "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

// checkCloudBoxScope fails t if r for a CloudBox is accepted and signed
// with V4 for anything else.
func checkCloudBoxScope(t *testing.T, r presign.Request) {
	t.Helper()
	r.CloudBoxID = "cb-fuzz"
	in, err := presign.Prepare(&r, openPolicy)
	if err != nil || in.Version != presign.V4 {
		return
	}
	res, err := presign.Sign(in, testCreds, time.Unix(1900000000, 0))
	if err != nil {
		t.Fatalf("Sign(accepted CloudBox request): %v", err)
	}
	if u, err := url.Parse(res.URL); err != nil || !strings.HasSuffix(u.Query().Get("x-oss-credential"), "/20300317/cb-fuzz/oss-cloudbox/aliyun_v4_request") {
		t.Fatalf("CloudBox URL %s (%v) is not signed for cb-fuzz", res.URL, err)
	}
}

package presign_test

import (
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/presign"
)

// FuzzPrepare feeds arbitrary requests through checking and signing: it must
// never panic, and whatever is accepted must sign into a URL whose path
// decodes back to the bucket and key asked for.
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
	f.Fuzz(func(t *testing.T, method, bucket, key, expires, version, endpoint, style, hk, hv, qk, qv string) {
		r := &presign.Request{Role: "r", Method: method, Bucket: bucket, Key: key, Expires: expires, Version: version,
			Endpoint: endpoint, URLStyle: style, Region: "cn-hangzhou"}
		if hk != "" {
			r.Headers = map[string]string{hk: hv}
		}
		if qk != "" {
			r.Query = map[string]string{qk: qv}
		}
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

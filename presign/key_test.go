package presign_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/presign"
)

// uploadsPolicy lets a role sign PUT URLs under uploads/ only.
var uploadsPolicy = func() config.Presign {
	p := openPolicy
	p.Prefixes = []string{"uploads/"}
	return p
}()

// TestDotSegments: a key whose "." or ".." segments a client or server
// resolves (so that the URL names another object than the one checked
// against the prefixes) is refused, however it is spelled; keys that only
// look alike are signed as written.
func TestDotSegments(t *testing.T) {
	for _, key := range []string{
		"uploads/../../x", // the attack: passes the prefix check as written, resolves to /x
		"uploads/../secret/x",
		"uploads/a/../../b",
		"uploads//../x", // an empty segment before ".." must not hide it
		"uploads/./x",
		"uploads/.",
		"uploads/..",
		"uploads/x/.",
		"uploads/..\\..\\x", // '\' as a separator, as some servers and browsers take it
		"uploads\\..\\x",
		"uploads/.\\x",
	} {
		t.Run(key, func(t *testing.T) {
			_, err := presign.Prepare(&presign.Request{Role: "r", Method: "PUT", Bucket: "example-bucket-01", Key: key, Region: "cn-hangzhou"}, uploadsPolicy)
			var pe *presign.Error
			if !errors.As(err, &pe) || pe.Status != 400 || pe.Code != presign.CodeInvalidKey || !strings.Contains(pe.Message, "path segment") {
				t.Fatalf("Prepare(%q) = %v, want 400 %s naming the path segment", key, err, presign.CodeInvalidKey)
			}
		})
	}
	for key, wantPath := range map[string]string{
		"uploads/..x":          "/uploads/..x",
		"uploads/x..":          "/uploads/x..",
		"uploads/.hidden":      "/uploads/.hidden",
		"uploads/...":          "/uploads/...",
		"uploads/a.b/c":        "/uploads/a.b/c",
		"uploads//x":           "/uploads//x",
		"uploads/%2e%2e/x":     "/uploads/%252e%252e/x", // a raw key: '%' is itself, escaped
		"uploads/%2E%2E%2Fx":   "/uploads/%252E%252E%252Fx",
		"uploads/\u2024\u2024": "/uploads/%E2%80%A4%E2%80%A4", // one-dot leaders are not dots
	} {
		t.Run(key, func(t *testing.T) {
			in, err := presign.Prepare(&presign.Request{Role: "r", Method: "PUT", Bucket: "example-bucket-01", Key: key, Region: "cn-hangzhou"}, uploadsPolicy)
			if err != nil {
				t.Fatalf("Prepare(%q): %v", key, err)
			}
			res, err := presign.Sign(in, testCreds, time.Unix(1900000000, 0))
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(res.URL)
			if err != nil || u.EscapedPath() != wantPath {
				t.Errorf("URL %s: path %q, want %q (%v)", res.URL, u.EscapedPath(), wantPath, err)
			}
		})
	}
}

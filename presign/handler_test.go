package presign_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/presign"
	"github.com/ossd/ossd/socket"
)

func TestHandler(t *testing.T) {
	p := readerPolicy
	p.Methods = allMethods
	e := newEnv(t, p)
	c := e.serve(t)
	status, h, body := post(t, c, "POST", `{"role":"reader","method":"PUT","bucket":"my-bucket","key":"tmp/a&b c.txt","expires":"10m",
		"headers":{"content-type":"text/plain","x-oss-meta-owner":"ci"},"query":{"versionId":"v1"}}`)
	if status != 200 || h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("POST = %d %v %s", status, h, body)
	}
	var resp presign.Response
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	wantExp := e.Clock.Now().Add(10 * time.Minute).UTC().Format(ossd.TimeLayout)
	if resp.Method != "PUT" || resp.Expiration != wantExp || !strings.HasPrefix(resp.URL, "https://my-bucket.oss-cn-hangzhou.aliyuncs.com/tmp/a%26b%20c.txt?") {
		t.Errorf("response %+v, want PUT expiring %s", resp, wantExp)
	}
	if resp.SignedHeaders["Content-Type"] != "text/plain" || resp.SignedHeaders["X-Oss-Meta-Owner"] != "ci" || len(resp.SignedHeaders) != 2 {
		t.Errorf("signed headers = %v", resp.SignedHeaders)
	}
	if strings.Contains(body, `\u0026`) {
		t.Errorf("URL is HTML-escaped: %s", body)
	}
	logSecrets(t, e, body)
}

// logSecrets checks that the response carries the token (it must: OSS needs
// it) but not the secret.
func logSecrets(t *testing.T, e *env, body string) {
	t.Helper()
	is := e.issued(t, "ossd-reader")
	if strings.Contains(body, is.AccessKeySecret) {
		t.Error("response contains the AccessKeySecret")
	}
}

func TestHandlerRefusals(t *testing.T) {
	e := newEnv(t, readerPolicy)
	c := e.serve(t)
	tests := []struct {
		name, method, body string
		status             int
		code, want         string
	}{
		{"get", "GET", "", 405, presign.CodeMethod, "use POST"},
		{"empty body", "POST", "", 400, presign.CodeBadRequest, "empty body"},
		{"not JSON", "POST", "role=reader", 400, presign.CodeBadRequest, "malformed body"},
		{"unknown field", "POST", `{"role":"reader","bucket":"my-bucket","key":"public/a","expiry":"1h"}`, 400, presign.CodeBadRequest, `unknown field "expiry"`},
		{"wrong type", "POST", `{"role":"reader","bucket":"my-bucket","key":"public/a","expires":900}`, 400, presign.CodeBadRequest, "expires"},
		{"two objects", "POST", `{"role":"reader","bucket":"my-bucket","key":"public/a"}{}`, 400, presign.CodeBadRequest, "after the JSON object"},
		{"no role", "POST", `{"bucket":"my-bucket","key":"public/a"}`, 400, presign.CodeBadRequest, "role is required"},
		{"too large", "POST", `{"role":"reader","bucket":"my-bucket","key":"` + strings.Repeat("k", 70<<10) + `"}`, 413, presign.CodeTooLarge, "64 KiB"},
		{"policy", "POST", `{"role":"reader","bucket":"my-bucket","key":"private/a"}`, 403, presign.CodeKeyDenied, "public/"},
		// JSON escapes decode before the check: this key is public/../../private/a.
		{"dot segments escaped", "POST", `{"role":"reader","bucket":"my-bucket","key":"public/\u002e\u002e/\u002e\u002e/private/a"}`, 400, presign.CodeInvalidKey, `".." path segment`},
		{"bad input", "POST", `{"role":"reader","bucket":"my-bucket","key":"public/a","expires":"8d"}`, 400, presign.CodeInvalidExpires, "8d"},
		{"unknown role", "POST", `{"role":"writer","bucket":"my-bucket","key":"public/a"}`, 404, presign.CodeUnknownRole, "writer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := post(t, c, tc.method, tc.body)
			var e struct{ Code, Message string }
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.want) {
				t.Errorf("= %d %s %q, want %d %s containing %q", status, e.Code, e.Message, tc.status, tc.code, tc.want)
			}
		})
	}
}

// BenchmarkPresign measures POST /v1/presign over the Unix socket, token
// cached; BenchmarkPresignBareHandler serves the same response bytes from a
// bare net/http handler over the same kind of socket: the practical limit.
func BenchmarkPresign(b *testing.B) {
	e := newEnv(b, readerPolicy)
	e.signer = e.newSigner(b, io.Discard) // keep the audit buffer from growing
	// One uid asks tens of thousands of times a second: the default per-uid
	// rate would answer 429 after its burst, and the bare handler has no
	// limit either.
	e.limit = ratelimit.New(ratelimit.Options{Rate: rate.Inf})
	benchPost(b, e.serve(b))
}

func BenchmarkPresignBareHandler(b *testing.B) {
	e := newEnv(b, readerPolicy)
	_, _, body := post(b, e.serve(b), "POST", benchBody)
	path := testenv.SocketPath(b)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := socket.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	benchPost(b, testenv.UnixClient(path))
}

const benchBody = `{"role":"reader","bucket":"my-bucket","key":"public/report 2030.pdf","expires":"10m"}`

func benchPost(b *testing.B, c *http.Client) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post("http://localhost/v1/presign", "application/json", strings.NewReader(benchBody))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

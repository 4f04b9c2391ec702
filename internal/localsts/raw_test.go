package localsts

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
)

func noProxyClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}
}

// testSign signs params the way the SDK does (url.Values.Encode, then
// patch-ups), independently of the server's encoder.
func testSign(method, secret string, params url.Values) string {
	p := url.Values{}
	for k, v := range params {
		if k != "Signature" {
			p[k] = v
		}
	}
	s := p.Encode()
	s = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(s)
	sts := method + "&%2F&" + url.QueryEscape(s)
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// rawParams returns the parameters of an AssumeRole call as the SDK sends
// them, unsigned, with a fresh nonce and the real time.
func (e *env) rawParams() url.Values {
	return url.Values{
		"AccessKeyId": {srcID}, "Action": {"AssumeRole"}, "Format": {"JSON"},
		"RegionId": {"cn-hangzhou"}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureType": {""},
		"SignatureNonce": {randomAlnum(32)}, "SignatureVersion": {"1.0"}, "Version": {"2015-04-01"},
		"Timestamp": {clock.Real{}.Now().UTC().Format(timeLayout)},
		"RoleArn":   {e.role}, "RoleSessionName": {"raw"}, "DurationSeconds": {"3600"},
	}
}

// rawCall is a hand-built request: query and body are sent as given.
type rawCall struct {
	method, path string
	query, body  url.Values
}

// signed signs the merged parameters of c with secret into its query.
func (c rawCall) signed(secret string) rawCall {
	all := url.Values{}
	for _, v := range []url.Values{c.query, c.body} {
		for k, vs := range v {
			all[k] = append(all[k], vs...)
		}
	}
	c.query = cloneValues(c.query)
	c.query.Set("Signature", testSign(c.method, secret, all))
	return c
}

// do sends c and returns the status and decoded JSON body.
func (e *env) do(t *testing.T, c rawCall) (int, map[string]any) {
	t.Helper()
	status, ct, m, err := e.send(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	return status, m
}

// send is do for any goroutine: it returns the failure instead.
func (e *env) send(c rawCall) (status int, contentType string, body map[string]any, err error) {
	u := "http://" + e.host + c.path + "?" + c.query.Encode()
	var rd io.Reader
	if c.body != nil {
		rd = strings.NewReader(c.body.Encode())
	}
	req, err := http.NewRequest(c.method, u, rd)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noProxyClient().Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, "", nil, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, nil
}

// checkErrorBody asserts the real error shape: five string fields.
func checkErrorBody(t *testing.T, m map[string]any, code string) {
	t.Helper()
	want := map[string]string{"HostId": "sts.aliyuncs.com", "Code": code,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + code}
	for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
		s, ok := m[k].(string)
		if !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, m[k])
		} else if w, has := want[k]; has && s != w {
			t.Errorf("%s = %q, want %q", k, s, w)
		}
	}
	if len(m) != 5 {
		t.Errorf("error body has %d fields, want 5: %v", len(m), m)
	}
}

func TestRawRequests(t *testing.T) {
	e := newEnv(t, Config{})
	post := func(mod func(q url.Values)) rawCall {
		q := e.rawParams()
		if mod != nil {
			mod(q)
		}
		return rawCall{method: "POST", path: "/", query: q}.signed(srcSecret)
	}
	inBody := func(keys ...string) rawCall {
		c := rawCall{method: "POST", path: "/", query: e.rawParams(), body: url.Values{}}
		for _, k := range keys {
			c.body[k] = c.query[k]
			delete(c.query, k)
		}
		return c.signed(srcSecret)
	}
	dup := inBody("RoleArn")
	dup.query.Set("RoleArn", e.role) // present in both; signature now stale too
	big := inBody("RoleSessionName")
	big.body.Set("Padding", strings.Repeat("x", maxBody))
	tests := []struct {
		name   string
		call   rawCall
		status int
		code   string
	}{
		{"query only", post(nil), 200, ""},
		{"GET", rawCall{method: "GET", path: "/", query: e.rawParams()}.signed(srcSecret), 200, ""},
		{"business params in body", inBody("RoleArn", "RoleSessionName", "DurationSeconds"), 200, ""},
		{"all in body", inBody("AccessKeyId", "Action", "Timestamp", "SignatureNonce", "RoleArn"), 200, ""},
		{"no Format", post(func(q url.Values) { q.Del("Format") }), 200, ""},
		{"duplicate", dup, 400, "InvalidParameter"},
		{"body too big", big, 400, "InvalidParameter"},
		{"other action", post(func(q url.Values) { q.Set("Action", "GetCallerIdentity") }), 400, "InvalidAction.NotFound"},
		{"other path", rawCall{method: "POST", path: "/x", query: e.rawParams()}.signed(srcSecret), 400, "InvalidAction.NotFound"},
		{"PUT", rawCall{method: "PUT", path: "/", query: e.rawParams()}.signed(srcSecret), 400, "UnsupportedHTTPMethod"},
		{"version", post(func(q url.Values) { q.Set("Version", "2015-04-02") }), 400, "InvalidVersion"},
		{"format", post(func(q url.Values) { q.Set("Format", "XML") }), 400, "InvalidParameter.Format"},
		{"method", post(func(q url.Values) { q.Set("SignatureMethod", "HMAC-SHA256") }), 400, "InvalidParameter.SignatureMethod"},
		{"sig version", post(func(q url.Values) { q.Set("SignatureVersion", "2.0") }), 400, "InvalidParameter.SignatureVersion"},
		{"timestamp format", post(func(q url.Values) { q.Set("Timestamp", "2030-01-01 00:00:00") }), 400, "InvalidTimeStamp.Format"},
		{"signed as GET", func() rawCall { c := post(nil); c.method = "GET"; return c.signed(srcSecret) }().withMethod("POST"), 400, "SignatureDoesNotMatch"},
		{"param added after signing", func() rawCall { c := post(nil); c.query.Set("Extra", "1"); return c }(), 400, "SignatureDoesNotMatch"},
	}
	for _, name := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp"} {
		c := post(nil)
		c.query.Del(name)
		if name != "Signature" {
			c = c.signed(srcSecret)
		}
		tests = append(tests, struct {
			name   string
			call   rawCall
			status int
			code   string
		}{"missing " + name, c, 400, "Missing" + name})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, m := e.do(t, tc.call)
			if status != tc.status {
				t.Fatalf("status = %d (%v), want %d %s", status, m, tc.status, tc.code)
			}
			if tc.status == 200 {
				if _, ok := m["Credentials"].(map[string]any); !ok {
					t.Errorf("no Credentials in %v", m)
				}
				return
			}
			checkErrorBody(t, m, tc.code)
		})
	}
}

func (c rawCall) withMethod(m string) rawCall { c.method = m; return c }

func TestNonceReuse(t *testing.T) {
	e := newEnv(t, Config{})
	c := rawCall{method: "POST", path: "/", query: e.rawParams()}.signed(srcSecret)
	if status, m := e.do(t, c); status != 200 {
		t.Fatalf("first send: %d %v", status, m)
	}
	status, m := e.do(t, c)
	if status != 400 {
		t.Fatalf("replay: status %d, want 400", status)
	}
	checkErrorBody(t, m, "SignatureNonceUsed")

	// The nonce is checked before the signature.
	replay := rawCall{method: "POST", path: "/", query: c.query}.signed("wrong")
	if status, m := e.do(t, replay); status != 400 || m["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay with a bad signature: %d %v, want SignatureNonceUsed", status, m)
	}

	// A badly signed request does not use up its nonce.
	q := e.rawParams()
	bad := rawCall{method: "POST", path: "/", query: q}.signed("wrong")
	if status, m := e.do(t, bad); status != 400 || m["Code"] != "SignatureDoesNotMatch" {
		t.Fatalf("bad signature: %d %v", status, m)
	}
	if status, m := e.do(t, rawCall{method: "POST", path: "/", query: q}.signed(srcSecret)); status != 200 {
		t.Fatalf("good signature after bad one with the same nonce: %d %v", status, m)
	}
}

func TestNonceConcurrentReplay(t *testing.T) {
	e := newEnv(t, Config{})
	for range 20 {
		c := rawCall{method: "POST", path: "/", query: e.rawParams()}.signed(srcSecret)
		before := e.srv.Successes()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, _, _, err := e.send(c); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := e.srv.Successes() - before; n != 1 {
			t.Fatalf("%d of 8 concurrent identical requests succeeded, want 1", n)
		}
	}
}

// TestSignerMatchesSDK captures what the SDK sends and checks that the test
// signer and the server's signer both reproduce its Signature, with
// characters that need encoding in the parameters.
func TestSignerMatchesSDK(t *testing.T) {
	e := newEnv(t, Config{})
	rec := &recorder{next: &http.Transport{Proxy: nil}}
	c := e.src(t)
	c.SetTransport(rec)
	o := e.opts()
	o.policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:*"],"Resource":["acs:oss:*:*:a~b/c d+é"]}]}`
	o.externalID = "x+y=z,@:/-_."
	mustAssume(t, c, o)

	req := rec.last()
	got := req.URL.Query()
	sig := got.Get("Signature")
	if sig == "" || got.Get("Policy") != o.policy {
		t.Fatalf("captured query %v lacks Signature or Policy", got)
	}
	if ts := testSign(req.Method, srcSecret, got); ts != sig {
		t.Errorf("test signer = %s, SDK = %s", ts, sig)
	}
	if ss := sign(srcSecret, stringToSign(req.Method, got)); ss != sig {
		t.Errorf("server signer = %s, SDK = %s", ss, sig)
	}
}

type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex // guards reqs
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

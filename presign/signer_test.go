package presign_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/presign"
)

func presignOK(t *testing.T, e *env, r *presign.Request) (presign.Result, url.Values) {
	t.Helper()
	res, err := e.signer.Presign(context.Background(), r)
	if err != nil {
		t.Fatalf("Presign: %v", err)
	}
	u, err := url.Parse(res.URL)
	if err != nil {
		t.Fatalf("URL %q: %v", res.URL, err)
	}
	return res, u.Query()
}

// TestExpiryLongerSession: a 6 h URL asked for when the cached 1 h token has
// 20 minutes left is signed with a fresh session that outlives it.
func TestExpiryLongerSession(t *testing.T) {
	e := newEnv(t, readerPolicy)
	e.Clock.Advance(40 * time.Minute)
	res, q := presignOK(t, e, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/big.iso", Expires: "6h"})
	calls := e.STS.CallLog()
	if len(calls) != 3 { // reader, plain, then the longer session
		t.Fatalf("STS calls = %d, want 3", len(calls))
	}
	if d, _ := strconv.Atoi(calls[2].Params.Get("DurationSeconds")); time.Duration(d)*time.Second < 6*time.Hour {
		t.Errorf("AssumeRole DurationSeconds = %d, want at least 6h", d)
	}
	long := e.STS.Issued()[2]
	if q.Get("x-oss-security-token") != long.SecurityToken || !strings.HasPrefix(q.Get("x-oss-credential"), long.AccessKeyID+"/") {
		t.Errorf("URL not signed with the longer session's token: %s", res.URL)
	}
	signTime := e.Clock.Now().Truncate(time.Second)
	if !res.Expiration.Equal(signTime.Add(6*time.Hour)) || q.Get("x-oss-expires") != "21600" {
		t.Errorf("expiration %v, x-oss-expires %s; want %v, 21600", res.Expiration, q.Get("x-oss-expires"), signTime.Add(6*time.Hour))
	}
	if res.Expiration.After(long.Expiration) {
		t.Errorf("URL expires at %v, after its token (%v)", res.Expiration, long.Expiration)
	}
	lines := e.auditLines(t)
	if last := lines[len(lines)-1]; last["session"] != long.SessionName || last["expiry"] != res.Expiration.Format("2006-01-02T15:04:05Z") {
		t.Errorf("audit line %v, want session %s and the URL's expiry", last, long.SessionName)
	}
}

// TestExpiryCachedToken: a URL the cached token covers needs no STS call.
func TestExpiryCachedToken(t *testing.T) {
	e := newEnv(t, readerPolicy)
	e.Clock.Advance(40 * time.Minute)
	res, q := presignOK(t, e, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "19m", Version: "v1"})
	if e.STS.Calls() != 2 {
		t.Errorf("STS calls = %d, want 2: the cached token covers 19m", e.STS.Calls())
	}
	reader := e.issued(t, "ossd-reader")
	if q.Get("security-token") != reader.SecurityToken || q.Get("OSSAccessKeyId") != reader.AccessKeyID {
		t.Errorf("V1 URL not signed with the cached token: %s", res.URL)
	}
	if q.Get("Expires") != strconv.FormatInt(res.Expiration.Unix(), 10) || res.Expiration.After(reader.Expiration) {
		t.Errorf("Expires=%s, expiration %v, token expiration %v", q.Get("Expires"), res.Expiration, reader.Expiration)
	}
}

// TestExpiryRefused: when max_session_duration is too short, the refusal
// names the longest possible expiry, and no URL is issued.
func TestExpiryRefused(t *testing.T) {
	p := readerPolicy
	p.MaxSessionDuration = config.Duration(time.Hour)
	p.MaxExpires = config.Duration(55 * time.Minute)
	e := newEnv(t, p)
	e.Clock.Advance(40 * time.Minute)
	res, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "6h"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Status != 403 || pe.Code != presign.CodeExpiresTooLong || !strings.Contains(pe.Message, "longest possible expiry is 55m0s") {
		t.Fatalf("err = %v, want 403 ExpiresTooLong naming 55m0s", err)
	}
	if res.URL != "" || e.STS.Calls() != 2 {
		t.Errorf("URL %q, %d STS calls; want none issued, no call", res.URL, e.STS.Calls())
	}
	// The longest possible expiry works, from a fresh 1 h session.
	res, _ = presignOK(t, e, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "55m"})
	if long := e.STS.Issued()[2]; res.Expiration.After(long.Expiration) || long.Expiration.Sub(e.Clock.Now()) != time.Hour {
		t.Errorf("55m URL expires %v with a token expiring %v", res.Expiration, long.Expiration)
	}
}

// TestServiceTooLong: a policy whose max_expires exceeds what its sessions
// can cover (Validate refuses such a config) still never yields a URL that
// dies early.
func TestServiceTooLong(t *testing.T) {
	p := readerPolicy
	p.MaxSessionDuration = config.Duration(time.Hour)
	p.MaxExpires = config.Duration(2 * time.Hour)
	e := newEnv(t, p)
	_, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "2h"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Code != presign.CodeExpiresTooLong || !strings.Contains(pe.Message, "longest possible validity is 55m0s") {
		t.Errorf("err = %v, want ExpiresTooLong naming 55m0s", err)
	}
}

func TestDefaults(t *testing.T) {
	p, _ := config.Role{Duration: config.Duration(time.Hour), Presign: config.Presign{Buckets: []string{"my-bucket"}, Region: "us-west-1"}}.PresignPolicy()
	e := newEnv(t, p)
	res, q := presignOK(t, e, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "any/key"})
	if !strings.HasPrefix(res.URL, "https://my-bucket.oss-us-west-1.aliyuncs.com/any/key?") || res.Method != "GET" ||
		q.Get("x-oss-expires") != "900" || !strings.Contains(q.Get("x-oss-credential"), "/us-west-1/oss/aliyun_v4_request") {
		t.Errorf("defaults: %s %s", res.Method, res.URL)
	}
}

// refusals are requests the "reader" role's policy, or the request's own
// form, refuses.
var refusals = []struct {
	name   string
	req    presign.Request
	status int
	code   string
	want   string
}{
	{"unknown role", presign.Request{Role: "nobody", Bucket: "my-bucket", Key: "public/a"}, 404, presign.CodeUnknownRole, `"nobody"`},
	{"role without presign", presign.Request{Role: "plain", Bucket: "my-bucket", Key: "public/a"}, 403, presign.CodeNotAllowed, "[role.presign]"},
	{"bucket not allowed", presign.Request{Role: "reader", Bucket: "secret-bucket", Key: "public/a"}, 403, presign.CodeBucketDenied, "allowed: my-bucket, other-bucket"},
	{"key outside prefixes", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "private/a"}, 403, presign.CodeKeyDenied, `"public/", "tmp/"`},
	{"leading slash is another key", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "/public/a"}, 403, presign.CodeKeyDenied, ""},
	{"method not allowed", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Method: "PUT"}, 403, presign.CodeOperationDenied, "allowed: GET, HEAD"},
	{"delete not allowed", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Method: "delete"}, 403, presign.CodeOperationDenied, "DELETE"},
	{"expires over policy", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "12h"}, 403, presign.CodeExpiresTooLong, "11h55m0s"},

	{"bucket upper case", presign.Request{Role: "reader", Bucket: "My-Bucket", Key: "public/a"}, 400, presign.CodeInvalidBucket, "3-63"},
	{"bucket too short", presign.Request{Role: "reader", Bucket: "ab", Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket too long", presign.Request{Role: "reader", Bucket: strings.Repeat("b", 64), Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket leading hyphen", presign.Request{Role: "reader", Bucket: "-bucket", Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket trailing hyphen", presign.Request{Role: "reader", Bucket: "bucket-", Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket underscore", presign.Request{Role: "reader", Bucket: "my_bucket", Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket dot host", presign.Request{Role: "reader", Bucket: "evil.com", Key: "public/a"}, 400, presign.CodeInvalidBucket, ""},
	{"bucket star", presign.Request{Role: "reader", Bucket: "*", Key: "public/a"}, 400, presign.CodeInvalidBucket, "patterns"},
	{"key empty", presign.Request{Role: "reader", Bucket: "my-bucket"}, 400, presign.CodeInvalidKey, "empty"},
	{"key too long", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/" + strings.Repeat("k", 1017)}, 400, presign.CodeInvalidKey, "1024 bytes, want at most 1023"},
	{"key not UTF-8", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/\xff"}, 400, presign.CodeInvalidKey, "UTF-8"},
	{"v4 over 7 days", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "168h1s"}, 400, presign.CodeInvalidExpires, "7 days"},
	{"expires fraction", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "1.5s"}, 400, presign.CodeInvalidExpires, "whole number"},
	{"expires zero", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "0s"}, 400, presign.CodeInvalidExpires, ""},
	{"expires negative", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "-1m"}, 400, presign.CodeInvalidExpires, ""},
	{"expires number", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "900"}, 400, presign.CodeInvalidExpires, `"900s"`},
	{"unknown method", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Method: "PATCH"}, 400, presign.CodeInvalidMethod, "GET, PUT, HEAD, POST, DELETE"},
	{"unknown version", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Version: "v2"}, 400, presign.CodeInvalidVersion, ""},
	{"header name", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Headers: map[string]string{"Bad Header": "x"}}, 400, presign.CodeInvalidHeader, "token"},
	{"header value newline", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Headers: map[string]string{"x-oss-meta-a": "a\r\nHost: evil"}}, 400, presign.CodeInvalidHeader, "control"},
	{"header empty value", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Headers: map[string]string{"x-oss-meta-a": ""}}, 400, presign.CodeInvalidHeader, "non-empty"},
	{"header reserved", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Headers: map[string]string{"x-oss-security-token": "x"}}, 400, presign.CodeInvalidHeader, "signature"},
	{"header twice", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Headers: map[string]string{"content-type": "a", "Content-Type": "b"}}, 400, presign.CodeInvalidHeader, "twice"},
	{"header v1 unsignable", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Version: "v1", Headers: map[string]string{"Cache-Control": "no-cache"}}, 400, presign.CodeInvalidHeader, "V1"},
	{"query acl", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Query: map[string]string{"acl": ""}}, 400, presign.CodeInvalidQuery, "versionId"},
	{"query signature", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Query: map[string]string{"x-oss-signature": "x"}}, 400, presign.CodeInvalidQuery, ""},
	{"query not UTF-8", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Query: map[string]string{"versionId": "\xff"}}, 400, presign.CodeInvalidQuery, ""},
	{"region", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Region: "evil.com/x"}, 400, presign.CodeInvalidRegion, ""},
	{"endpoint scheme", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "ftp://oss.example.com"}, 400, presign.CodeInvalidEndpoint, "scheme"},
	{"endpoint path", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://oss.example.com/x"}, 400, presign.CodeInvalidEndpoint, "path"},
	{"endpoint userinfo", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://u:p@oss.example.com"}, 400, presign.CodeInvalidEndpoint, ""},
	{"url style", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", URLStyle: "alias"}, 400, presign.CodeInvalidStyle, ""},
	{"dot segments", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/../private/a"}, 400, presign.CodeInvalidKey, `".." path segment`},
	{"cloudbox endpoint without id", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com"},
		400, presign.CodeMissingCloudBox, `set cloudbox_id to "cb-123"`},
	{"cloudbox control endpoint without id", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "cb-123.cn-hangzhou.oss-cloudbox-control.aliyuncs.com"},
		400, presign.CodeMissingCloudBox, "cloudbox_id"},
	{"cloudbox endpoint upper case with port", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://CB-123.cn-hangzhou.OSS-CloudBox.aliyuncs.com.:443"},
		400, presign.CodeMissingCloudBox, "cloudbox_id"},
	{"cloudbox endpoint other form without id", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://my-bucket.cb-1.cn-hangzhou.oss-cloudbox.aliyuncs.com", URLStyle: "cname"},
		400, presign.CodeMissingCloudBox, "the CloudBox's id"},
	{"cloudbox id of another box", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", CloudBoxID: "cb-456"},
		400, presign.CodeInvalidEndpoint, `CloudBox "cb-123"'s, not cloudbox_id "cb-456"'s`},
	{"cloudbox id with public endpoint", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://oss-cn-hangzhou-internal.aliyuncs.com", CloudBoxID: "cb-456"},
		400, presign.CodeInvalidEndpoint, "public OSS endpoint"},
	{"cloudbox id malformed", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", CloudBoxID: "cb-1.evil.com"}, 400, presign.CodeInvalidCloudBox, `"cb-"`},
	{"cloudbox id without cb-", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", CloudBoxID: "box-1"}, 400, presign.CodeInvalidCloudBox, ""},
	{"cloudbox id upper case", presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", CloudBoxID: "CB-1"}, 400, presign.CodeInvalidCloudBox, ""},
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, readerPolicy)
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.auditLines(t))
			res, err := e.signer.Presign(context.Background(), &tc.req)
			var pe *presign.Error
			if !errors.As(err, &pe) || pe.Status != tc.status || pe.Code != tc.code || !strings.Contains(pe.Message, tc.want) {
				t.Fatalf("err = %v, want %d %s containing %q", err, tc.status, tc.code, tc.want)
			}
			if res.URL != "" {
				t.Errorf("refusal came with a URL")
			}
			lines := e.auditLines(t)
			if len(lines) != before+1 || lines[len(lines)-1]["result"] != tc.code || lines[len(lines)-1]["role"] != tc.req.Role {
				t.Errorf("audit lines %v, want one more with result %s", lines[before:], tc.code)
			}
		})
	}
	if e.STS.Calls() != 2 {
		t.Errorf("refusals made %d STS calls, want none beyond the 2 at start", e.STS.Calls()-2)
	}
}

// TestCloudBoxPolicy: a role whose policy names a CloudBox signs V4 URLs
// for it, on its data endpoint by default; a request may name another
// CloudBox, or give the endpoint and leave out the region.
func TestCloudBoxPolicy(t *testing.T) {
	p := readerPolicy
	p.CloudBoxID = "cb-f8z7yvzgwfkl9q0h"
	e := newEnv(t, p)
	for _, tc := range []struct {
		req       presign.Request
		host, box string
	}{
		{presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a"}, "my-bucket.cb-f8z7yvzgwfkl9q0h.cn-hangzhou.oss-cloudbox.aliyuncs.com", "cb-f8z7yvzgwfkl9q0h"},
		{presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Region: "cn-heyuan", CloudBoxID: "cb-wz9conqz5shwj945"},
			"my-bucket.cb-wz9conqz5shwj945.cn-heyuan.oss-cloudbox.aliyuncs.com", "cb-wz9conqz5shwj945"},
		{presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://box.example.com", URLStyle: "cname"}, "box.example.com", "cb-f8z7yvzgwfkl9q0h"},
	} {
		res, q := presignOK(t, e, &tc.req)
		u, _ := url.Parse(res.URL) // presignOK parsed it
		if want := "/" + tc.box + "/oss-cloudbox/aliyun_v4_request"; u.Host != tc.host || !strings.HasSuffix(q.Get("x-oss-credential"), want) {
			t.Errorf("%+v: URL %s, want host %s and a credential ending %s", tc.req, res.URL, tc.host, want)
		}
	}
	p.Region = ""
	e.roles["reader"] = config.Role{Name: "reader", ARN: e.roles["reader"].ARN, SessionName: "ossd-reader", Duration: config.Duration(time.Hour), Presign: p}
	presignOK(t, e, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://cb-f8z7yvzgwfkl9q0h.cn-hangzhou.oss-cloudbox.aliyuncs.com"})
	_, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Code != presign.CodeMissingRegion {
		t.Errorf("default CloudBox endpoint without a region: err = %v, want MissingRegion", err)
	}
	// The policy's CloudBox with a public endpoint cannot work: refused.
	_, err = e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com"})
	if !errors.As(err, &pe) || pe.Code != presign.CodeInvalidEndpoint || !strings.Contains(pe.Message, "cb-f8z7yvzgwfkl9q0h") {
		t.Errorf("public endpoint with the policy's CloudBox: err = %v, want InvalidEndpoint naming the CloudBox", err)
	}
}

func TestMissingRegion(t *testing.T) {
	p := readerPolicy
	p.Region = ""
	e := newEnv(t, p)
	_, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Code != presign.CodeMissingRegion || pe.Status != 400 {
		t.Errorf("err = %v, want 400 MissingRegion", err)
	}
	if _, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Region: "cn-beijing"}); err != nil {
		t.Errorf("region in the request: %v", err)
	}
}

// TestAuditHasNoSecrets signs URLs of every kind and looks for the issued
// secrets, tokens and signatures in the audit log.
func TestAuditHasNoSecrets(t *testing.T) {
	p := readerPolicy
	p.Methods = allMethods
	e := newEnv(t, p)
	e.Clock.Advance(40 * time.Minute)
	var signatures []string
	for _, r := range []presign.Request{
		{Role: "reader", Bucket: "my-bucket", Key: "public/a b", Expires: "5m"},
		{Role: "reader", Bucket: "my-bucket", Key: "public/a b", Expires: "5m", Version: "v1", Method: "PUT", Headers: map[string]string{"Content-Type": "text/plain"}},
		{Role: "reader", Bucket: "other-bucket", Key: "tmp/x", Expires: "3h", Method: "HEAD"},
		{Role: "reader", Bucket: "other-bucket", Key: "tmp/x", Expires: "3h", Version: "v1"},
	} {
		res, q := presignOK(t, e, &r)
		sig := q.Get("x-oss-signature") + q.Get("Signature")
		if sig == "" {
			t.Fatalf("no signature in %s", res.URL)
		}
		signatures = append(signatures, sig, url.QueryEscape(sig))
	}
	text := e.audit.String()
	if strings.Count(text, "\n") != 4 || strings.Count(text, `"result":"ok"`) != 4 || !strings.Contains(text, `"key":"public/a b"`) {
		t.Errorf("audit log:\n%s", text)
	}
	for _, want := range []string{`"event":"presign"`, `"method":"PUT"`, `"bucket":"other-bucket"`, `"expires_seconds":10800`, `"access_key_id":"STS.`, `"time":"2030-01-01T00:40:00.000Z"`} {
		if !strings.Contains(text, want) {
			t.Errorf("audit log lacks %s:\n%s", want, text)
		}
	}
	secrets := append(e.Secrets(), signatures...)
	for _, is := range e.STS.Issued() {
		secrets = append(secrets, url.QueryEscape(is.SecurityToken))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("audit log contains a secret or signature (%.6q...)", s)
		}
	}
}

// failingWriter refuses every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestAuditFailureWithholdsURL(t *testing.T) {
	e := newEnv(t, readerPolicy)
	s := presign.New(presign.Options{Credentials: e.Service, Audit: audit.New(failingWriter{}, e.Clock), Clock: e.Clock,
		Roles: func(string) (config.Role, bool) { return e.roles["reader"], true }})
	res, err := s.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Status != 503 || pe.Code != presign.CodeAuditFailed || res.URL != "" {
		t.Errorf("Presign = %q, %v; want no URL and 503 AuditFailed", res.URL, err)
	}
}

// TestUnavailable: when STS fails and no token is cached, the caller gets
// 503 CredentialsUnavailable with the STS code, and no URL.
func TestUnavailable(t *testing.T) {
	e := newEnv(t, readerPolicy)
	e.Clock.Advance(40 * time.Minute)
	e.STS.FailNext(5, localsts.Fault{Code: "ServiceUnavailable"})
	_, err := e.signer.Presign(context.Background(), &presign.Request{Role: "reader", Bucket: "my-bucket", Key: "public/a", Expires: "2h"})
	var pe *presign.Error
	if !errors.As(err, &pe) || pe.Status != 503 || pe.Code != presign.CodeUnavailable || !strings.Contains(pe.Message, "ServiceUnavailable") {
		t.Errorf("err = %v, want 503 CredentialsUnavailable naming the STS code", err)
	}
}

// TestAccessDenied: once roles have allow rules, a caller who may not have
// the role is refused before anything else, and cannot tell a role that
// exists from one that does not.
func TestAccessDenied(t *testing.T) {
	e := newEnv(t, readerPolicy)
	rule, err := access.Compile(config.Allow{UIDs: []uint32{4242424}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles := testenv.Roles("reader", "plain")
	roles[0].Allow, roles[1].Allow = rule, rule
	e.Service.Apply(context.Background(), roles)
	var msgs []string
	for _, role := range []string{"reader", "plain", "nobody"} {
		_, err := e.signer.Presign(context.Background(), &presign.Request{Role: role, Bucket: "my-bucket", Key: "public/a"})
		var pe *presign.Error
		if !errors.As(err, &pe) || pe.Status != 403 || pe.Code != presign.CodeDenied {
			t.Fatalf("role %s: err = %v, want 403 AccessDenied", role, err)
		}
		msgs = append(msgs, strings.ReplaceAll(pe.Message, role, "ROLE"))
	}
	if msgs[0] != msgs[1] || msgs[1] != msgs[2] {
		t.Errorf("refusals differ by role: %q", msgs)
	}
}

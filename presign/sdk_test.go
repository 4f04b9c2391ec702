package presign_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/presign"
)

// Fake credentials for signing; nothing here reaches a server.
var (
	testCreds = ossd.Credentials{
		AccessKeyID: "STS.NUgYrLnoC37mZZCNnAbez2Xo", AccessKeySecret: "Fcd9XkVXx3WJ2W7kVd9C1r5ea8K7vWnDvKj7wbpB9zJY",
		SecurityToken: ossd.NewToken("CAIS9AF1q6Ft5B2yfSjIr5bTKuvbibFX/8+GTMHxLmUNP7RXqdOg5Dz2IHhMenRoAOAXsf43nm1W7/ck"),
	}
	akOnly = ossd.Credentials{AccessKeyID: "LTAI5tAkOnlyKeyId", AccessKeySecret: "akOnlySecret0123456789abcdefghij"}
)

// sdkCase is one URL signed by both ossd and the SDK.
type sdkCase struct {
	name     string
	method   string
	bucket   string
	key      string
	v1       bool
	anon     bool // no security token
	region   string
	endpoint string
	style    string
	headers  map[string]string
	query    map[string]string
	typed    bool // give the SDK typed request fields rather than RequestCommon
	expires  time.Duration
	cloudbox string // CloudBox id, for ossd and the SDK's Config.CloudBoxId
	// detect has the SDK find the CloudBox id in the endpoint
	// (EnableAutoDetectCloudBoxId) rather than be given it.
	detect bool
}

// Keys SPEC §7 says to test.
var hardKeys = []string{
	"plain.txt", "dir/with space.txt", "a+b=c&d.txt", "100%/50%25", "~user/file~", "中文/ключ/😀.png",
	"/leading-slash", "//double//slashes/", "why?not#frag", "semi;colon,comma:colon@at!bang$'()*", "tab\there",
}

func sdkCases() []sdkCase {
	var cases []sdkCase
	for _, key := range hardKeys {
		for _, v1 := range []bool{false, true} {
			for _, anon := range []bool{false, true} {
				cases = append(cases, sdkCase{name: fmt.Sprintf("GET %q v1=%v anon=%v", key, v1, anon), method: "GET", key: key, v1: v1, anon: anon})
			}
		}
	}
	for _, v1 := range []bool{false, true} {
		vs := map[bool]string{false: "v4", true: "v1"}[v1]
		cases = append(cases,
			sdkCase{name: vs + " PUT content-type", method: "PUT", key: "up/a b.bin", v1: v1, headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, typed: true},
			sdkCase{name: vs + " PUT content-type common", method: "PUT", key: "up/a b.bin", v1: v1, headers: map[string]string{"content-type": "application/octet-stream"}},
			sdkCase{name: vs + " PUT x-oss headers", method: "PUT", key: "up/x", v1: v1, headers: map[string]string{"x-oss-meta-author": " alice ", "X-Oss-Object-Acl": "private", "Content-MD5": "eB5eJF1ptWaXm4bijSPyxw=="}},
			sdkCase{name: vs + " HEAD", method: "HEAD", key: "h/€.txt", v1: v1},
			sdkCase{name: vs + " HEAD anon", method: "HEAD", key: "h", v1: v1, anon: true},
			sdkCase{name: vs + " GET versionId typed", method: "GET", key: "v.txt", v1: v1, query: map[string]string{"versionId": "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFmZjRjOWY3****"}, typed: true},
			sdkCase{name: vs + " GET response-content-disposition typed", method: "GET", key: "r.txt", v1: v1, query: map[string]string{"response-content-disposition": `attachment; filename="a b+c.txt"`}, typed: true},
			sdkCase{name: vs + " GET x-oss-process typed", method: "GET", key: "img.jpg", v1: v1, query: map[string]string{"x-oss-process": "image/resize,w_100/quality,q_90"}, typed: true},
			sdkCase{name: vs + " GET sub-resources common", method: "GET", key: "s?x", v1: v1, query: map[string]string{
				"versionId": "v 1", "response-content-type": "text/html", "x-oss-process": "image/info", "response-expires": "Thu, 01 Jan 2030 00:00:00 GMT"}},
			sdkCase{name: vs + " us-west-1", method: "GET", key: "k", v1: v1, region: "us-west-1"},
			sdkCase{name: vs + " path style", method: "GET", key: "p/k", v1: v1, style: config.URLStylePath},
			sdkCase{name: vs + " path style us-west-1 endpoint", method: "PUT", key: "p/k", v1: v1, region: "us-west-1", endpoint: "https://oss-us-west-1.aliyuncs.com", style: config.URLStylePath},
			sdkCase{name: vs + " cname", method: "GET", key: "c/k k", v1: v1, endpoint: "https://static.example.com", style: config.URLStyleCName},
			sdkCase{name: vs + " cname http port", method: "GET", key: "c", v1: v1, endpoint: "http://cdn.example.com:8080", style: config.URLStyleCName},
			sdkCase{name: vs + " internal endpoint bare host", method: "GET", key: "k", v1: v1, endpoint: "oss-cn-hangzhou-internal.aliyuncs.com"},
			sdkCase{name: vs + " ip endpoint", method: "GET", key: "k", v1: v1, endpoint: "http://127.0.0.1:9000"},
			sdkCase{name: vs + " POST uploads", method: "POST", key: "mp/big.bin", v1: v1, query: map[string]string{"uploads": ""}},
			sdkCase{name: vs + " DELETE uploadId", method: "DELETE", key: "mp/big.bin", v1: v1, query: map[string]string{"uploadId": "0004B9895DBBB6EC98E36"}},
			sdkCase{name: vs + " long expiry", method: "GET", key: "k", v1: v1, expires: 12 * time.Hour},
			sdkCase{name: vs + " one second", method: "GET", key: "k", v1: v1, expires: time.Second},
			sdkCase{name: vs + " cloudbox", method: "GET", key: "box/a b+c.txt", v1: v1, endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", cloudbox: "cb-123"},
			sdkCase{name: vs + " cloudbox anon", method: "GET", key: "box/k", v1: v1, anon: true, endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", cloudbox: "cb-123"},
			sdkCase{name: vs + " cloudbox default endpoint", method: "PUT", key: "up/x", v1: v1, region: "cn-heyuan", cloudbox: "cb-f8z7yvzgwfkl9q0h",
				headers: map[string]string{"Content-Type": "text/csv", "x-oss-meta-a": "b"}},
			sdkCase{name: vs + " cloudbox path style", method: "HEAD", key: "p/k", v1: v1, endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", cloudbox: "cb-123", style: config.URLStylePath},
			sdkCase{name: vs + " cloudbox control endpoint bare host", method: "GET", key: "k", v1: v1, endpoint: "cb-123.cn-shanghai.oss-cloudbox-control.aliyuncs.com", cloudbox: "cb-123", region: "cn-shanghai"},
			sdkCase{name: vs + " cloudbox custom domain", method: "GET", key: "c/k", v1: v1, endpoint: "https://box.example.com", cloudbox: "cb-9", style: config.URLStyleCName},
			sdkCase{name: vs + " cloudbox ip endpoint", method: "GET", key: "k", v1: v1, endpoint: "http://10.0.0.7:8080", cloudbox: "cb-9"},
			sdkCase{name: vs + " cloudbox sub-resources", method: "DELETE", key: "mp/big.bin", v1: v1, endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", cloudbox: "cb-123",
				query: map[string]string{"uploadId": "0004B9895DBBB6EC98E36"}},
		)
	}
	cases = append(cases,
		sdkCase{name: "v4 additional headers", method: "PUT", key: "a", headers: map[string]string{"Content-Disposition": "inline", "cache-control": "no-cache", "x-oss-meta-a": "b"}},
		sdkCase{name: "v4 range header", method: "GET", key: "a", headers: map[string]string{"Range": "bytes=0-99"}, anon: true},
		sdkCase{name: "v4 seven days", method: "GET", key: "k", expires: presign.MaxExpiresV4 - time.Minute},
		sdkCase{name: "v4 cloudbox additional headers", method: "PUT", key: "a", endpoint: "https://cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", cloudbox: "cb-123",
			headers: map[string]string{"Content-Disposition": "inline", "x-oss-meta-a": "b"}},
		sdkCase{name: "v4 cloudbox detected by the SDK", method: "GET", key: "k", endpoint: "https://cb-77.cn-beijing.oss-cloudbox.aliyuncs.com", cloudbox: "cb-77", detect: true},
		sdkCase{name: "v4 cloudbox control detected by the SDK", method: "PUT", key: "k", endpoint: "cb-77.cn-beijing.oss-cloudbox-control.aliyuncs.com", cloudbox: "cb-77", detect: true},
	)
	return cases
}

// request returns the ossd request of tc.
func (tc sdkCase) request() *presign.Request {
	r := &presign.Request{Role: "r", Method: tc.method, Bucket: tc.bucketName(), Key: tc.key, Region: tc.regionName(),
		Endpoint: tc.endpoint, URLStyle: tc.style, Headers: tc.headers, Query: tc.query, Expires: tc.expiry().String(), CloudBoxID: tc.cloudbox}
	if tc.v1 {
		r.Version = presign.V1
	}
	return r
}

func (tc sdkCase) bucketName() string {
	if tc.bucket == "" {
		return "example-bucket-01"
	}
	return tc.bucket
}

func (tc sdkCase) regionName() string {
	if tc.region == "" {
		return "cn-hangzhou"
	}
	return tc.region
}

func (tc sdkCase) expiry() time.Duration {
	if tc.expires == 0 {
		return 15 * time.Minute
	}
	return tc.expires
}

func (tc sdkCase) creds() ossd.Credentials {
	if tc.anon {
		return akOnly
	}
	return testCreds
}

var allMethods = []string{"GET", "PUT", "HEAD", "POST", "DELETE"}

// policy allows everything tc asks for.
var openPolicy = config.Presign{
	Buckets: []string{"example-bucket-01"}, Prefixes: []string{""}, Methods: allMethods,
	MaxExpires: config.Duration(presign.MaxExpiresV4), MaxSessionDuration: config.Duration(12 * time.Hour), URLStyle: config.URLStyleVirtual,
}

// ossdSign signs tc with ossd at signTime.
func ossdSign(t *testing.T, tc sdkCase, signTime time.Time) presign.Result {
	t.Helper()
	in, err := presign.Prepare(tc.request(), openPolicy)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	res, err := presign.Sign(in, tc.creds(), signTime)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return res
}

// sdkSign signs tc with the official SDK's Client.Presign.
func sdkSign(t *testing.T, tc sdkCase, signTime time.Time) *oss.PresignResult {
	t.Helper()
	c := tc.creds()
	cfg := oss.NewConfig().
		WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(c.AccessKeyID, c.AccessKeySecret.Reveal(), c.SecurityToken.Reveal())).
		WithRegion(tc.regionName())
	switch {
	case tc.endpoint != "":
		cfg = cfg.WithEndpoint(tc.endpoint)
	case tc.cloudbox != "": // ossd's default: the CloudBox's data endpoint
		cfg = cfg.WithEndpoint("https://" + tc.cloudbox + "." + tc.regionName() + ".oss-cloudbox.aliyuncs.com")
	}
	switch {
	case tc.detect:
		cfg = cfg.WithEnableAutoDetectCloudBoxId(true)
	case tc.cloudbox != "":
		cfg = cfg.WithCloudBoxId(tc.cloudbox)
	}
	if tc.v1 {
		cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	switch tc.style {
	case config.URLStylePath:
		cfg = cfg.WithUsePathStyle(true)
	case config.URLStyleCName:
		cfg = cfg.WithUseCName(true)
	}
	var extra []string
	for k := range tc.headers {
		if low := strings.ToLower(k); !strings.HasPrefix(low, "x-oss-") && low != "content-type" && low != "content-md5" {
			extra = append(extra, k)
		}
	}
	if extra != nil {
		cfg = cfg.WithAdditionalHeaders(extra)
	}
	res, err := oss.NewClient(cfg).Presign(context.Background(), tc.sdkRequest(), oss.PresignExpiration(signTime.Add(tc.expiry())))
	if err != nil {
		t.Fatalf("SDK Presign: %v", err)
	}
	return res
}

// sdkRequest is tc as the SDK's request type of its method.
func (tc sdkCase) sdkRequest() any {
	common := oss.RequestCommon{Headers: maps.Clone(tc.headers), Parameters: maps.Clone(tc.query)}
	b, k := oss.Ptr(tc.bucketName()), oss.Ptr(tc.key)
	switch tc.method {
	case "PUT":
		r := &oss.PutObjectRequest{Bucket: b, Key: k, RequestCommon: common}
		if tc.typed {
			r.ContentType = oss.Ptr(tc.headers["Content-Type"])
			r.Headers = nil
		}
		return r
	case "HEAD":
		return &oss.HeadObjectRequest{Bucket: b, Key: k, RequestCommon: common}
	case "POST":
		delete(common.Parameters, "uploads") // InitiateMultipartUpload adds it
		return &oss.InitiateMultipartUploadRequest{Bucket: b, Key: k, RequestCommon: common}
	case "DELETE":
		delete(common.Parameters, "uploadId")
		return &oss.AbortMultipartUploadRequest{Bucket: b, Key: k, UploadId: oss.Ptr(tc.query["uploadId"]), RequestCommon: common}
	}
	r := &oss.GetObjectRequest{Bucket: b, Key: k, RequestCommon: common}
	if tc.typed {
		r.Parameters = nil
		for name, v := range tc.query {
			switch name {
			case "versionId":
				r.VersionId = oss.Ptr(v)
			case "response-content-disposition":
				r.ResponseContentDisposition = oss.Ptr(v)
			case "x-oss-process":
				r.Process = oss.Ptr(v)
			}
		}
	}
	return r
}

func compare(t *testing.T, got presign.Result, want *oss.PresignResult) {
	t.Helper()
	if got.URL != want.URL {
		t.Errorf("URL differs from the SDK's:\n ossd %s\n sdk  %s", got.URL, want.URL)
	}
	if got.Method != want.Method || !got.Expiration.Equal(want.Expiration) {
		t.Errorf("method, expiration = %s %v; SDK %s %v", got.Method, got.Expiration, want.Method, want.Expiration)
	}
	if !reflect.DeepEqual(got.SignedHeaders, want.SignedHeaders) {
		t.Errorf("signed headers = %v; SDK %v", got.SignedHeaders, want.SignedHeaders)
	}
}

// TestSameAsSDKV1 compares V1 URLs at a fixed time: the SDK's V1 signer
// takes the whole signing time from the expiration it is given.
func TestSameAsSDKV1(t *testing.T) {
	signTime := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range sdkCases() {
		if !tc.v1 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got := ossdSign(t, tc, signTime)
			compare(t, got, sdkSign(t, tc, signTime))
			if !strings.Contains(got.URL, fmt.Sprintf("Expires=%d&", signTime.Add(tc.expiry()).Unix())) {
				t.Errorf("URL lacks the absolute expiry: %s", got.URL)
			}
		})
	}
}

// TestSameAsSDKV4 compares V4 URLs signed within one wall-clock second: the
// SDK's V4 signer reads x-oss-date from time.Now, so ossd signs at the
// current second and the SDK must sign within it too, else the case is
// retried.
func TestSameAsSDKV4(t *testing.T) {
	wall := clock.Real{}
	for _, tc := range sdkCases() {
		if tc.v1 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			for attempt := 0; ; attempt++ {
				signTime := wall.Now().Truncate(time.Second)
				got := ossdSign(t, tc, signTime)
				want := sdkSign(t, tc, signTime)
				if !wall.Now().Truncate(time.Second).Equal(signTime) {
					if attempt < 20 {
						continue // the second changed under the SDK; try again
					}
					t.Fatal("could not sign within one second in 20 attempts")
				}
				compare(t, got, want)
				if wantDate := "x-oss-date=" + signTime.UTC().Format("20060102T150405Z"); !strings.Contains(got.URL, wantDate) {
					t.Errorf("URL lacks %s: %s", wantDate, got.URL)
				}
				scope := "%2F" + tc.regionName() + "%2Foss%2Faliyun_v4_request"
				if tc.cloudbox != "" {
					scope = "%2F" + tc.cloudbox + "%2Foss-cloudbox%2Faliyun_v4_request"
				}
				if !strings.Contains(got.URL, scope+"&") {
					t.Errorf("URL lacks the scope %s: %s", scope, got.URL)
				}
				return
			}
		})
	}
}

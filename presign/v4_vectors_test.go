package presign

import (
	"cmp"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestV4Vectors replays the fixed-time vectors of the SDK's own signer tests
// (oss/signer/signer_test.go, TestV4AuthQuery* and TestV4AuthQueryWithCloudBox,
// v1.6.1): same request, same times, same expected signature.
func TestV4Vectors(t *testing.T) {
	tests := []struct {
		name                 string
		region, product      string // default cn-hangzhou, oss
		token                string
		signTime, expiration int64
		additional           []string
		wantDate, wantAddl   string
		wantSignature        string
	}{
		{name: "TestV4AuthQuery", signTime: 1702781677, expiration: 1702782276,
			wantDate: "20231217T025437Z", wantSignature: "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"},
		{name: "TestV4AuthQueryToken", token: "token", signTime: 1702785388, expiration: 1702785987,
			wantDate: "20231217T035628Z", wantSignature: "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"},
		{name: "TestV4AuthQueryWithAdditionalHeaders", signTime: 1702783809, expiration: 1702784408, additional: []string{"ZAbc", "abc"},
			wantDate: "20231217T033009Z", wantAddl: "abc;zabc", wantSignature: "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"},
		{name: "TestV4AuthQueryWithAdditionalHeaders default signed", signTime: 1702783809, expiration: 1702784408,
			additional: []string{"x-oss-no-exist", "abc", "x-oss-head1", "ZAbc"},
			wantDate:   "20231217T033009Z", wantAddl: "abc;zabc", wantSignature: "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"},
		{name: "TestV4AuthQueryWithCloudBox", region: "cb-123", product: "oss-cloudbox", signTime: 1702781677, expiration: 1702782276, additional: []string{"ZAbc", "abc"},
			wantDate: "20231217T025437Z", wantAddl: "abc;zabc", wantSignature: "07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f"},
		{name: "TestV4AuthQueryWithCloudBox default signed", region: "cb-123", product: "oss-cloudbox", signTime: 1702783809, expiration: 1702784408,
			additional: []string{"x-oss-no-exist", "abc", "x-oss-head1", "ZAbc"},
			wantDate:   "20231217T033009Z", wantAddl: "abc;zabc", wantSignature: "16782cc8a7a554523db055eb804b508522e7e370073108ad88ee2f47496701dd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("PUT", "http://bucket.oss-cn-hangzhou.aliyuncs.com", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"x-oss-head1", "abc", "ZAbc", "XYZ"} {
				req.Header.Add(h, "value")
			}
			req.Header.Add("content-type", "application/octet-stream")
			values := url.Values{}
			for _, kv := range [][2]string{{"param1", "value1"}, {"+param1", "value3"}, {"|param1", "value4"}, {"+param2", ""}, {"|param2", ""}, {"param2", ""}} {
				values.Add(kv[0], kv[1])
			}
			req.URL.RawQuery = values.Encode()
			region, product := cmp.Or(tc.region, "cn-hangzhou"), cmp.Or(tc.product, "oss")
			signV4(req, v4Query{bucket: "bucket", key: "1234+-/123/1.txt", region: region, product: product,
				accessKeyID: "ak", secret: "sk", token: tc.token,
				signTime: time.Unix(tc.signTime, 0), expires: tc.expiration - tc.signTime, additional: tc.additional})
			q := req.URL.Query()
			for k, want := range map[string]string{
				"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-date": tc.wantDate, "x-oss-expires": "599",
				"x-oss-credential": "ak/20231217/" + region + "/" + product + "/aliyun_v4_request", "x-oss-signature": tc.wantSignature,
				"x-oss-additional-headers": tc.wantAddl, "x-oss-security-token": tc.token,
			} {
				if got := q.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

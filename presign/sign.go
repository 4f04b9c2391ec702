package presign

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/config"
)

// Result is a signed URL.
type Result struct {
	URL    string
	Method string
	// Expiration is when the URL stops working: the signing time plus the
	// validity, never after the token it was signed with expires.
	Expiration time.Time
	// SignedHeaders must be sent, with these values, by whoever uses the URL.
	SignedHeaders map[string]string
}

// Sign returns in's URL signed with c at signTime, which it truncates to
// whole seconds. It does not check c's expiry: [Signer] does.
func Sign(in *Input, c ossd.Credentials, signTime time.Time) (Result, error) {
	signTime = signTime.Truncate(time.Second).UTC()
	req, err := buildRequest(in)
	if err != nil {
		return Result{}, err
	}
	region, product := in.scope()
	var chk interface{ IsSignedHeader([]string, string) bool }
	var additional []string
	switch in.Version {
	case V1:
		sv1 := &signer.SignerV1{}
		chk = sv1
		sc := &signer.SigningContext{
			Product: &product, Region: &region, Bucket: &in.Bucket, Key: &in.Key, Request: req,
			Credentials: &credentials.Credentials{
				AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret.Reveal(), SecurityToken: c.SecurityToken.Reveal(),
			},
			AuthMethodQuery: true,
			Time:            signTime.Add(in.Expires),
		}
		if err := sv1.Sign(context.Background(), sc); err != nil {
			return Result{}, fmt.Errorf("sign v1: %w", err)
		}
	default:
		chk = &signer.SignerV4{}
		additional = nonDefaultHeaders(in.Header)
		signV4(req, v4Query{
			bucket: in.Bucket, key: in.Key, region: region, product: product,
			accessKeyID: c.AccessKeyID, secret: c.AccessKeySecret.Reveal(), token: c.SecurityToken.Reveal(),
			signTime: signTime, expires: int64(in.Expires / time.Second), additional: additional,
		})
	}
	res := Result{URL: req.URL.String(), Method: req.Method, Expiration: signTime.Add(in.Expires)}
	for k, v := range req.Header {
		if chk.IsSignedHeader(additional, k) {
			if res.SignedHeaders == nil {
				res.SignedHeaders = make(map[string]string, len(req.Header))
			}
			res.SignedHeaders[k] = v[0]
		}
	}
	return res, nil
}

// scope returns the region and product of in's signature, as the SDK's
// Client sets them (resolveCloudBox in oss/client.go): a CloudBox's id and
// oss-cloudbox, else the region and oss. V1 signatures have no scope; the
// SDK's V1 signer ignores both.
func (in *Input) scope() (region, product string) {
	if in.CloudBoxID != "" {
		return in.CloudBoxID, productCloudBox
	}
	return in.Region, productOSS
}

// buildRequest builds the unsigned request as the SDK's Client does
// (sendRequest and buildURL in oss/client.go): the bucket in the host name,
// in the path, or, for a CNAME, in neither; always in the path for an IP
// address.
func buildRequest(in *Input) (*http.Request, error) {
	host, key := in.Endpoint.Host, escapePath(in.Key)
	var path string
	switch style := in.URLStyle; {
	case style == config.URLStylePath || pathStyleHost(in.Endpoint):
		path = "/" + in.Bucket + "/" + key
	case style == config.URLStyleCName:
		path = "/" + key
	default:
		host = in.Bucket + "." + host
		path = "/" + key
	}
	var b strings.Builder
	b.WriteString(in.Endpoint.Scheme + "://" + host + path)
	for i, k := range sortedKeys(in.Query) {
		b.WriteByte("?&"[min(i, 1)])
		b.WriteString(url.QueryEscape(k))
		if v := in.Query[k]; v != "" {
			b.WriteString("=" + strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	req, err := http.NewRequest(in.Method, b.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range in.Header {
		req.Header[k] = slices.Clone(v)
	}
	return req, nil
}

// nonDefaultHeaders returns the names in h that V4 signs only when told to.
func nonDefaultHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if !isDefaultSignedHeader(strings.ToLower(k)) {
			out = append(out, k)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

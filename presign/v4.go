package presign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is the query form of OSS signature V4 as the v2 SDK's
// oss/signer/v4.go (SignerV4.authQuery, v1.6.1) computes it, with the signing
// time passed in instead of read from time.Now. Every step follows the SDK's
// order and encoding, because the URL must be byte-identical to the SDK's.

const (
	algorithmV4     = "OSS4-HMAC-SHA256"
	productOSS      = "oss"          // the SDK's DefaultProduct
	productCloudBox = "oss-cloudbox" // the SDK's CloudBoxProduct
	v4Terminator    = "aliyun_v4_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	v4DateTime      = "20060102T150405Z"
	v4Date          = "20060102"
)

// v4Query is what signing needs beyond the request.
type v4Query struct {
	bucket, key         string
	region, product     string // the scope's: a region and "oss", or a CloudBox id and "oss-cloudbox"
	accessKeyID, secret string
	token               string
	signTime            time.Time
	expires             int64 // seconds
	additional          []string
}

// signV4 adds the V4 query parameters and the signature to req.URL.
func signV4(req *http.Request, q v4Query) {
	now := q.signTime.UTC()
	datetime, date := now.Format(v4DateTime), now.Format(v4Date)
	scope := date + "/" + q.region + "/" + q.product + "/" + v4Terminator
	additional := additionalHeaders(req.Header, q.additional)

	query, _ := url.ParseQuery(req.URL.RawQuery) // built by buildRequest; the SDK ignores this error too
	if q.token != "" {
		query.Add("x-oss-security-token", q.token)
	}
	query.Add("x-oss-signature-version", algorithmV4)
	query.Add("x-oss-date", datetime)
	query.Add("x-oss-expires", strconv.FormatInt(q.expires, 10))
	query.Add("x-oss-credential", q.accessKeyID+"/"+scope)
	if len(additional) > 0 {
		query.Add("x-oss-additional-headers", strings.Join(additional, ";"))
	}
	req.URL.RawQuery = query.Encode()

	canonical := canonicalRequest(req, q.bucket, q.key, additional)
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithmV4 + "\n" + datetime + "\n" + scope + "\n" + hex.EncodeToString(sum[:])

	query.Add("x-oss-signature", signatureV4(q.secret, date, q.region, q.product, toSign))
	req.URL.RawQuery = strings.ReplaceAll(query.Encode(), "+", "%20")
}

// isDefaultSignedHeader reports whether V4 signs the lower-case header low
// without being told to.
func isDefaultSignedHeader(low string) bool {
	return strings.HasPrefix(low, "x-oss-") || low == "content-type" || low == "content-md5"
}

// additionalHeaders returns the lower-case names in names that are present
// in h and not signed by default, sorted (getCommonAdditionalHeaders).
func additionalHeaders(h http.Header, names []string) []string {
	var keys []string
	for _, k := range names {
		low := strings.ToLower(k)
		if !isDefaultSignedHeader(low) && h.Get(low) != "" {
			keys = append(keys, low)
		}
	}
	sort.Strings(keys)
	return keys
}

// canonicalRequest is SignerV4.calcCanonicalRequest.
func canonicalRequest(req *http.Request, bucket, key string, additional []string) string {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(escapePath("/" + bucket + "/" + key))
	b.WriteByte('\n')
	writeCanonicalQuery(&b, req.URL.RawQuery)
	b.WriteByte('\n')
	writeCanonicalHeaders(&b, req.Header, additional)
	b.WriteByte('\n')
	b.WriteString(strings.Join(additional, ";"))
	b.WriteByte('\n')
	if v := req.Header.Get("x-oss-content-sha256"); v != "" {
		b.WriteString(v)
	} else {
		b.WriteString(unsignedPayload)
	}
	return b.String()
}

// writeCanonicalQuery writes the encoded query sorted by name, a name
// without a value bare; a repeated name keeps its last value, as in the SDK.
func writeCanonicalQuery(b *strings.Builder, raw string) {
	query := strings.ReplaceAll(raw, "+", "%20")
	values := make(map[string]string)
	var params []string
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
		params = append(params, k)
	}
	sort.Strings(params)
	for i, k := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := values[k]; v != "" {
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
}

// writeCanonicalHeaders writes "name:value\n" for each signed header, names
// in lower case and sorted, values trimmed and joined with ",".
func writeCanonicalHeaders(b *strings.Builder, h http.Header, additional []string) {
	var names []string
	for k := range h {
		low := strings.ToLower(k)
		if isDefaultSignedHeader(low) || contains(additional, low) {
			names = append(names, low)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		vs := h.Values(k)
		b.WriteString(k)
		b.WriteByte(':')
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.ToLower(v) == s {
			return true
		}
	}
	return false
}

// signatureV4 derives the signing key from the secret, the date, the region
// and the product, and returns the hex HMAC of toSign.
func signatureV4(secret, date, region, product, toSign string) string {
	key := hmacSHA256([]byte("aliyun_v4"+secret), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, product)
	key = hmacSHA256(key, v4Terminator)
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data)) // a hash never fails to write
	return h.Sum(nil)
}

// escapePath percent-encodes every byte of p except A-Z a-z 0-9 - _ . ~ and
// '/', with upper-case hex.
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

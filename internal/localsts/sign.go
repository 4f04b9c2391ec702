package localsts

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// percentEncode encodes s as RFC 3986 requires for Signature V1: the
// unreserved characters A-Z a-z 0-9 - _ . ~ stay, every other byte becomes
// %XX (upper-case hex), so a space is %20 and * is %2A.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// stringToSign builds METHOD&%2F&percentEncode(k=v&...) from every parameter
// but Signature, sorted by encoded name.
func stringToSign(method string, params url.Values) string {
	names := make([]string, 0, len(params))
	raw := make(map[string]string, len(params)) // encoded name -> name
	for k := range params {
		if k != "Signature" {
			ek := percentEncode(k)
			names = append(names, ek)
			raw[ek] = k
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, ek := range names {
		for _, v := range params[raw[ek]] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek + "=" + percentEncode(v))
		}
	}
	return method + "&%2F&" + percentEncode(b.String())
}

// sign returns base64(HMAC-SHA1(secret+"&", sts)).
func sign(secret, sts string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signatureMatches compares in constant time.
func signatureMatches(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

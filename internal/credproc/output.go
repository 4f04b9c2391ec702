package credproc

import (
	"github.com/ossd/ossd"
)

// Mode is the value of the "mode" key. The aliyun CLI re-runs the command
// without bound when it is missing (SPEC §4).
const Mode = "StsToken"

// AppendOutput appends the credential-process output for c to b: one JSON
// object with the snake_case keys of the aliyun CLI and the External
// providers and the CamelCase keys of OSS v2's process provider, with
// identical values (Go parsers match keys case-insensitively, so "expiration"
// and "Expiration" land in the same field), then a newline, which every
// parser skips as whitespace.
func AppendOutput(b []byte, c ossd.Credentials) []byte {
	var exp [len(ossd.TimeLayout)]byte
	e := c.Expiration.UTC().AppendFormat(exp[:0], ossd.TimeLayout)
	b = append(b, `{"mode":"`+Mode+`","access_key_id":`...)
	b = ossd.AppendJSONString(b, c.AccessKeyID)
	b = append(b, `,"access_key_secret":`...)
	b = ossd.AppendJSONString(b, c.AccessKeySecret.Reveal())
	b = append(b, `,"sts_token":`...)
	b = ossd.AppendJSONString(b, c.SecurityToken.Reveal())
	b = append(b, `,"expiration":"`...)
	b = append(b, e...)
	b = append(b, `","AccessKeyId":`...)
	b = ossd.AppendJSONString(b, c.AccessKeyID)
	b = append(b, `,"AccessKeySecret":`...)
	b = ossd.AppendJSONString(b, c.AccessKeySecret.Reveal())
	b = append(b, `,"SecurityToken":`...)
	b = ossd.AppendJSONString(b, c.SecurityToken.Reveal())
	b = append(b, `,"Expiration":"`...)
	b = append(b, e...)
	return append(b, "\"}\n"...)
}

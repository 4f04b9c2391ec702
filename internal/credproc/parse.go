package credproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ossd/ossd"
)

// ErrBadBody is returned for a credentials body that is not the SPEC §1
// shape. Its messages never quote a secret.
var ErrBadBody = errors.New("malformed credentials body")

// body is the SPEC §1 credentials body.
type body struct {
	Code            string
	AccessKeyId     string // the wire name
	AccessKeySecret string
	SecurityToken   string
	Expiration      string
	LastUpdated     string
}

// ParseBody parses a SPEC §1 credentials body: Code "Success", every
// credential field present, Expiration (and LastUpdated, if sent) in
// [ossd.TimeLayout].
func ParseBody(b []byte) (ossd.Credentials, error) {
	var v body
	if err := json.Unmarshal(b, &v); err != nil {
		return ossd.Credentials{}, fmt.Errorf("%w: %s", ErrBadBody, jsonProblem(err))
	}
	if v.Code != "Success" {
		return ossd.Credentials{}, fmt.Errorf("%w: Code is %q, want \"Success\"", ErrBadBody, truncate(v.Code))
	}
	if v.AccessKeyId == "" || v.AccessKeySecret == "" || v.SecurityToken == "" {
		return ossd.Credentials{}, fmt.Errorf("%w: AccessKeyId, AccessKeySecret or SecurityToken is empty", ErrBadBody)
	}
	exp, err := parseTime(v.Expiration)
	if err != nil {
		return ossd.Credentials{}, fmt.Errorf("%w: Expiration %q is not in the layout %s", ErrBadBody, truncate(v.Expiration), ossd.TimeLayout)
	}
	c := ossd.Credentials{
		AccessKeyID:     v.AccessKeyId,
		AccessKeySecret: ossd.Secret(v.AccessKeySecret),
		SecurityToken:   ossd.Secret(v.SecurityToken),
		Expiration:      exp,
	}
	if v.LastUpdated != "" {
		if c.LastUpdated, err = parseTime(v.LastUpdated); err != nil {
			return ossd.Credentials{}, fmt.Errorf("%w: LastUpdated %q is not in the layout %s", ErrBadBody, truncate(v.LastUpdated), ossd.TimeLayout)
		}
	}
	return c, nil
}

// parseTime parses s in exactly [ossd.TimeLayout]: time.Parse alone also
// accepts fractional seconds, which Python and oss2 reject.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(ossd.TimeLayout, s)
	if err == nil && t.Format(ossd.TimeLayout) != s {
		err = errors.New("not exactly " + ossd.TimeLayout)
	}
	return t, err
}

// jsonProblem describes a decoding error without any of the input: a
// SyntaxError's text quotes one byte of it, which could belong to a secret.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return "invalid JSON"
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

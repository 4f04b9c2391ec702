package credproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ossd/ossd"
)

// ErrBadBody is returned for a credentials body that is not the SPEC §1
// shape. Its messages name the field at fault but never quote a value read
// from the body: the body comes from a daemon the caller may not trust, and
// any value in it may be, or contain, a secret.
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
		return ossd.Credentials{}, fmt.Errorf("%w: Code is not \"Success\"", ErrBadBody)
	}
	if v.AccessKeyId == "" || v.AccessKeySecret == "" || v.SecurityToken == "" {
		return ossd.Credentials{}, fmt.Errorf("%w: AccessKeyId, AccessKeySecret or SecurityToken is empty", ErrBadBody)
	}
	exp, err := parseTime(v.Expiration)
	if err != nil {
		return ossd.Credentials{}, fmt.Errorf("%w: Expiration is not in the layout %s", ErrBadBody, ossd.TimeLayout)
	}
	c := ossd.Credentials{
		AccessKeyID:     v.AccessKeyId,
		AccessKeySecret: ossd.Secret(v.AccessKeySecret),
		SecurityToken:   ossd.NewToken(v.SecurityToken),
		Expiration:      exp,
	}
	if v.LastUpdated != "" {
		if c.LastUpdated, err = parseTime(v.LastUpdated); err != nil {
			return ossd.Credentials{}, fmt.Errorf("%w: LastUpdated is not in the layout %s", ErrBadBody, ossd.TimeLayout)
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
// SyntaxError's text quotes one byte of it, and an UnmarshalTypeError's
// Value holds a number as written, either of which could be part of a
// secret. What is left is an offset, one of the body's own field names and
// the kind of JSON value found.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return "not a JSON object"
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ") // "number 12" -> "number"
		return fmt.Sprintf("field %s is a JSON %s, want a string", te.Field, kind)
	}
	return "invalid JSON"
}

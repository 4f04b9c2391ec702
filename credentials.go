package ossd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// TimeLayout is the only timestamp layout every client accepts (SPEC §1):
// UTC, whole seconds, literal Z.
const TimeLayout = "2006-01-02T15:04:05Z"

// Sentinel errors shared across packages. Callers compare with errors.Is.
var (
	ErrUnknownRole = errors.New("unknown role")
	ErrExpired     = errors.New("credentials expired")
)

// Params are the inputs of one AssumeRole call. Everything in Params changes
// the token STS issues, so all of it goes into the [Key].
type Params struct {
	RoleARN     string
	SessionName string
	Policy      string // inline JSON; empty for none
	Duration    time.Duration
	ExternalID  string
	// Via, when set, is the role whose credentials sign this call instead of
	// the source credential (role chaining, a [[role]]'s source_role). Who
	// signs decides whose session this is, so it is part of the [Key].
	Via *Params
}

// Key identifies one cached STS session. It is comparable, holds no secret,
// and carries a digest of the policy rather than the policy itself.
type Key struct {
	RoleARN      string
	SessionName  string
	PolicyDigest string
	Duration     time.Duration
	ExternalID   string
	Via          string // digest of the Key of Params.Via; "" for the source credential
}

// Key returns the cache key of p.
func (p Params) Key() Key {
	k := Key{RoleARN: p.RoleARN, SessionName: p.SessionName, Duration: p.Duration, ExternalID: p.ExternalID}
	if p.Policy != "" {
		sum := sha256.Sum256([]byte(p.Policy))
		k.PolicyDigest = hex.EncodeToString(sum[:8])
	}
	if p.Via != nil {
		sum := sha256.Sum256([]byte(p.Via.Key().String()))
		k.Via = hex.EncodeToString(sum[:8])
	}
	return k
}

// String renders k for logs and singleflight keys.
func (k Key) String() string {
	s := k.RoleARN + "/" + k.SessionName + "/" + strconv.FormatInt(int64(k.Duration/time.Second), 10) + "s"
	if k.PolicyDigest != "" {
		s += "/policy:" + k.PolicyDigest
	}
	if k.ExternalID != "" {
		s += "/ext:" + k.ExternalID
	}
	if k.Via != "" {
		s += "/via:" + k.Via
	}
	return s
}

// Credentials are temporary STS credentials.
type Credentials struct {
	AccessKeyID     string // an identifier, safe to log and audit
	AccessKeySecret Secret
	SecurityToken   Token
	Expiration      time.Time
	LastUpdated     time.Time // when STS issued the session
	// ServerTime is when STS says it answered (its Date header), for
	// measuring how far its clock is from ours; zero when unknown. It is
	// not part of the body served to clients.
	ServerTime time.Time
}

// Valid reports whether c is complete and has more than min left at now.
func (c Credentials) Valid(now time.Time, min time.Duration) bool {
	return c.AccessKeyID != "" && c.AccessKeySecret != "" && !c.SecurityToken.IsZero() &&
		c.Expiration.Sub(now) > min
}

// MarshalJSON renders c as the body of SPEC §1, which every official client
// parses: Code "Success", times in [TimeLayout], no nulls.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return c.AppendJSON(make([]byte, 0, 1024)), nil
}

// AppendJSON appends the SPEC §1 body to b without reflection; it is on the
// hot path of every credential request.
func (c Credentials) AppendJSON(b []byte) []byte {
	b = append(b, `{"AccessKeyId":`...)
	b = AppendJSONString(b, c.AccessKeyID)
	b = append(b, `,"AccessKeySecret":`...)
	b = AppendJSONString(b, string(c.AccessKeySecret))
	b = append(b, `,"SecurityToken":`...)
	b = c.SecurityToken.appendJSON(b)
	b = append(b, `,"Expiration":"`...)
	b = c.Expiration.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `","LastUpdated":"`...)
	b = c.LastUpdated.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `","Code":"Success"}`...)
	return b
}

// AppendJSONString appends s as a JSON string. STS values are printable
// ASCII, which is copied as is; anything else goes through encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // marshalling a string cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// LogValue keeps log/slog from printing secrets: its JSON handler would
// otherwise render c with MarshalJSON, the body served to clients.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID),
		slog.String("expiration", c.Expiration.UTC().Format(TimeLayout)))
}

// GoString keeps %#v from printing secrets through the struct.
func (c Credentials) GoString() string {
	return fmt.Sprintf("ossd.Credentials{AccessKeyID:%q, Expiration:%s}", c.AccessKeyID, c.Expiration.Format(TimeLayout))
}

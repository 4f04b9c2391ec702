package tokenstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ossd/ossd"
)

// Version is the version of the file format this package reads and writes.
// A file of any other version is ignored.
const Version = 1

// file is the state file.
type file struct {
	Version int     `json:"version"`
	Saved   string  `json:"saved"` // wall clock, for people reading it
	Entries []entry `json:"entries"`
}

// entry is one kept token: its cache key, where it came from, and the
// credentials.
type entry struct {
	RoleARN         string    `json:"role_arn"`
	SessionName     string    `json:"session_name"`
	PolicyDigest    string    `json:"policy_digest,omitempty"`
	DurationSeconds int64     `json:"duration_seconds"`
	ExternalID      string    `json:"external_id,omitempty"`
	Pinned          bool      `json:"pinned"`
	STS             string    `json:"sts"` // Fingerprint of the issuing STS
	AccessKeyID     string    `json:"access_key_id"`
	AccessKeySecret string    `json:"access_key_secret"`
	SecurityToken   string    `json:"security_token"`
	Expiration      time.Time `json:"expiration"`
	LastUpdated     time.Time `json:"last_updated"`
}

func newEntry(k ossd.Key, pinned bool, fp string, c ossd.Credentials) entry {
	return entry{
		RoleARN: k.RoleARN, SessionName: k.SessionName, PolicyDigest: k.PolicyDigest,
		DurationSeconds: int64(k.Duration / time.Second), ExternalID: k.ExternalID, Pinned: pinned, STS: fp,
		AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret.Reveal(), SecurityToken: c.SecurityToken.Reveal(),
		Expiration: c.Expiration.UTC(), LastUpdated: c.LastUpdated.UTC(),
	}
}

func (e entry) key() ossd.Key {
	return ossd.Key{RoleARN: e.RoleARN, SessionName: e.SessionName, PolicyDigest: e.PolicyDigest,
		Duration: time.Duration(e.DurationSeconds) * time.Second, ExternalID: e.ExternalID}
}

func (e entry) creds() ossd.Credentials {
	return ossd.Credentials{AccessKeyID: e.AccessKeyID, AccessKeySecret: ossd.Secret(e.AccessKeySecret),
		SecurityToken: ossd.Secret(e.SecurityToken), Expiration: e.Expiration, LastUpdated: e.LastUpdated}
}

// maxDurationSeconds is STS's longest session, 12 h.
const maxDurationSeconds = 12 * 3600

// check reports what makes e unusable, or "".
func (e entry) check() string {
	switch {
	case e.RoleARN == "" || e.SessionName == "":
		return "an entry has no role or session name"
	case e.DurationSeconds <= 0 || e.DurationSeconds > maxDurationSeconds:
		return "an entry has a duration out of range"
	case e.STS == "":
		return "an entry has no STS fingerprint"
	case e.AccessKeyID == "" || e.AccessKeySecret == "" || e.SecurityToken == "":
		return "an entry has incomplete credentials"
	case e.Expiration.IsZero() || e.LastUpdated.IsZero():
		return "an entry has no expiration or issue time"
	}
	return ""
}

// errMalformed marks a file that is not a well-formed state file.
var errMalformed = errors.New("not a valid token file")

// decode parses a state file strictly. Its errors never quote the file:
// it holds secrets.
func decode(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %s", errMalformed, describeJSON(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the end", errMalformed)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%w: version %d, want %d", errMalformed, f.Version, Version)
	}
	for _, e := range f.Entries {
		if why := e.check(); why != "" {
			return nil, fmt.Errorf("%w: %s", errMalformed, why)
		}
	}
	return f.Entries, nil
}

// describeJSON says what is wrong with a document without quoting it:
// encoding/json's messages name unknown fields, which in a file that is
// not ours could be anything.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %s has the wrong type", typ.Field) // a path of our own field names
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "an unknown field"
	}
	return "not a JSON object"
}

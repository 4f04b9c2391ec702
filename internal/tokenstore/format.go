package tokenstore

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ossd/ossd"
)

// Version is the version of the file format this package reads and writes.
// A file of any other version is ignored.
const Version = 1

// The file is text, one kept token per line: a start with ten thousand
// sessions reads and parses it several times faster than it did JSON
// (BENCHMARKS.md, "Saving and loading kept tokens"):
//
//	ossd-tokens 1
//	saved 2030-01-01T00:00:00Z
//	<13 fields separated by tabs>     one line per token: pinned (0 or 1), role ARN,
//	                                  session name, policy digest, external id, the
//	                                  digest of the signing role (via), STS
//	                                  fingerprint, AccessKeyId, AccessKeySecret,
//	                                  SecurityToken, duration in seconds, expiration,
//	                                  issue time (LastUpdated)
//	end <number of tokens>
//
// Every field is printable ASCII without spaces (what STS and the config
// allow); an empty field is an absent value. The trailer catches a
// truncated file.
const (
	header    = "ossd-tokens"
	nFields   = 13
	separator = '\t'
)

// entry is one kept token: its cache key, where it came from, and the
// credentials.
type entry struct {
	Pinned          bool
	RoleARN         string
	SessionName     string
	PolicyDigest    string
	DurationSeconds int64
	ExternalID      string
	Via             string // ossd.Key.Via: who signed the AssumeRole
	STS             string // Fingerprint of the issuing STS
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      time.Time
	LastUpdated     time.Time
}

func newEntry(k ossd.Key, pinned bool, fp string, c ossd.Credentials) entry {
	return entry{
		Pinned: pinned, RoleARN: k.RoleARN, SessionName: k.SessionName, PolicyDigest: k.PolicyDigest,
		DurationSeconds: int64(k.Duration / time.Second), ExternalID: k.ExternalID, Via: k.Via, STS: fp,
		AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret.Reveal(), SecurityToken: c.SecurityToken.Reveal(),
		Expiration: c.Expiration.UTC(), LastUpdated: c.LastUpdated.UTC(),
	}
}

func (e entry) key() ossd.Key {
	return ossd.Key{RoleARN: e.RoleARN, SessionName: e.SessionName, PolicyDigest: e.PolicyDigest,
		Duration: time.Duration(e.DurationSeconds) * time.Second, ExternalID: e.ExternalID, Via: e.Via}
}

func (e entry) creds() ossd.Credentials {
	id, secret, token := ossd.Pack(e.AccessKeyID, e.AccessKeySecret, e.SecurityToken)
	return ossd.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token,
		Expiration: e.Expiration, LastUpdated: e.LastUpdated}
}

// texts returns e's text fields in file order: all but the pinned flag
// (first), the duration and the two times (last).
func (e entry) texts() []string {
	return []string{e.RoleARN, e.SessionName, e.PolicyDigest, e.ExternalID, e.Via, e.STS, e.AccessKeyID, e.AccessKeySecret, e.SecurityToken}
}

// maxDurationSeconds is STS's longest session, 12 h.
const maxDurationSeconds = 12 * 3600

// check reports what makes e unusable, or "".
func (e entry) check() string {
	for _, s := range e.texts() {
		if !plain(s) {
			return "an entry has a field with a space or a control character"
		}
	}
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

// plain reports whether s is printable ASCII without spaces.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// appendHeader starts a file saved at now.
func appendHeader(b []byte, now time.Time) []byte {
	b = fmt.Appendf(b, "%s %d\nsaved ", header, Version)
	return append(now.UTC().AppendFormat(b, ossd.TimeLayout), '\n')
}

// appendEntry appends e's line; e must pass check.
func appendEntry(b []byte, e entry) []byte {
	flag := byte('0')
	if e.Pinned {
		flag = '1'
	}
	b = append(b, flag)
	for _, s := range e.texts() {
		b = append(b, separator)
		b = append(b, s...)
	}
	b = append(b, separator)
	b = strconv.AppendInt(b, e.DurationSeconds, 10)
	b = append(b, separator)
	b = e.Expiration.UTC().AppendFormat(b, ossd.TimeLayout)
	b = append(b, separator)
	b = e.LastUpdated.UTC().AppendFormat(b, ossd.TimeLayout)
	return append(b, '\n')
}

// lineLen is the length of e's line, within a few bytes.
func lineLen(e entry) int {
	n := 64 // the flag, the duration, the times, the separators
	for _, s := range e.texts() {
		n += len(s)
	}
	return n
}

// appendTrailer ends a file of n entries.
func appendTrailer(b []byte, n int) []byte { return fmt.Appendf(b, "end %d\n", n) }

// errMalformed marks a file that is not a well-formed state file.
var errMalformed = errors.New("not a valid token file")

// decode parses a state file strictly. Its errors never quote the file:
// it holds secrets.
func decode(data []byte) ([]entry, error) {
	bad := func(line int, why string) error { return fmt.Errorf("%w: line %d: %s", errMalformed, line, why) }
	first, rest, _ := bytes.Cut(data, []byte{'\n'})
	if v, ok := bytes.CutPrefix(first, []byte(header+" ")); !ok {
		return nil, bad(1, "no ossd-tokens header")
	} else if string(v) != strconv.Itoa(Version) {
		return nil, bad(1, "another version than "+strconv.Itoa(Version))
	}
	if saved, r, _ := bytes.Cut(rest, []byte{'\n'}); !bytes.HasPrefix(saved, []byte("saved ")) {
		return nil, bad(2, "no saved line")
	} else {
		rest = r
	}
	var out []entry
	for n := 3; ; n++ {
		line, r, found := bytes.Cut(rest, []byte{'\n'})
		if !found {
			return nil, bad(n, "truncated, no end line")
		}
		rest = r
		if count, ok := bytes.CutPrefix(line, []byte("end ")); ok {
			if string(count) != strconv.Itoa(len(out)) || len(rest) != 0 {
				return nil, bad(n, "the end line does not match the file")
			}
			return out, nil
		}
		e, why := parseEntry(line)
		if why == "" {
			why = e.check()
		}
		if why != "" {
			return nil, bad(n, why)
		}
		out = append(out, e)
	}
}

// parseEntry parses one entry line, or says what is wrong with it.
func parseEntry(line []byte) (entry, string) {
	f := bytes.Split(line, []byte{separator})
	if len(f) != nFields {
		return entry{}, fmt.Sprintf("%d fields, want %d", len(f), nFields)
	}
	e := entry{
		RoleARN: string(f[1]), SessionName: string(f[2]), PolicyDigest: string(f[3]), ExternalID: string(f[4]), Via: string(f[5]),
		STS: string(f[6]), AccessKeyID: string(f[7]), AccessKeySecret: string(f[8]), SecurityToken: string(f[9]),
	}
	switch string(f[0]) {
	case "1":
		e.Pinned = true
	case "0":
	default:
		return entry{}, "the pinned flag is not 0 or 1"
	}
	var err error
	if e.DurationSeconds, err = strconv.ParseInt(string(f[10]), 10, 64); err != nil {
		return entry{}, "the duration is not a number"
	}
	if e.Expiration, err = time.Parse(ossd.TimeLayout, string(f[11])); err != nil {
		return entry{}, "the expiration is not a time"
	}
	if e.LastUpdated, err = time.Parse(ossd.TimeLayout, string(f[12])); err != nil {
		return entry{}, "the issue time is not a time"
	}
	return e, ""
}

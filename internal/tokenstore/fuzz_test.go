package tokenstore

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/ossd/ossd"
)

// decodeErr is every message decode may give: phrases of its own and
// numbers, never a piece of the file.
var decodeErr = regexp.MustCompile(`^not a valid token file: line \d+: [A-Za-z0-9 ,-]+$`)

func encodeAll(entries []entry) []byte {
	b := appendHeader(nil, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, e := range entries {
		b = appendEntry(b, e)
	}
	return appendTrailer(b, len(entries))
}

func FuzzDecode(f *testing.F) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := ossd.Credentials{AccessKeyID: "STS.id", AccessKeySecret: "the-secret", SecurityToken: ossd.NewToken("CAIS+token/="), Expiration: at.Add(time.Hour), LastUpdated: at}
	p := ossd.Params{RoleARN: "acs:ram::1:role/r", SessionName: "ossd-r", Duration: time.Hour, Policy: `{"Version":"1"}`, ExternalID: "ext"}
	q := ossd.Params{RoleARN: "acs:ram::1:role/q", SessionName: "ossd-q-job", Duration: 2 * time.Hour, Via: &p}
	good := encodeAll([]entry{newEntry(p.Key(), true, "fp", c), newEntry(q.Key(), false, "fp", c)})
	for _, seed := range []string{string(good), string(encodeAll(nil)), "", "ossd-tokens 1\n", "ossd-tokens 2\nsaved x\nend 0\n",
		"ossd-tokens 1\nsaved x\nend 1\n", "ossd-tokens 1\nsaved x\n1\t\t\t\t\t\t\t\t\t\t\t\nend 1\n", "{}", string(good[:len(good)/2]),
		string(good) + "end 0\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decode(data)
		if err != nil {
			if !decodeErr.MatchString(err.Error()) {
				t.Fatalf("decode error %q is not one of its own messages", err)
			}
			return
		}
		for _, e := range entries {
			if why := e.check(); why != "" {
				t.Fatalf("decode accepted an entry that check refuses: %s", why)
			}
		}
		back, err := decode(encodeAll(entries))
		if err != nil || len(back) != len(entries) || len(entries) > 0 && !reflect.DeepEqual(back, entries) {
			t.Fatalf("round trip: %v; got %d entries back, want %d", err, len(back), len(entries))
		}
	})
}

package tokenstore

import (
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/ossd/ossd"
)

// decodeErr is every message decode may give: phrases of its own, numbers
// and the names of its own fields, never a piece of the file.
var decodeErr = regexp.MustCompile(`^not a valid token file: (syntax error at byte \d+|field [a-z_.]+ has the wrong type|truncated|an unknown field|not a JSON object|data after the end|version -?\d+, want 1|an entry [a-z ]+)$`)

func FuzzDecode(f *testing.F) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := ossd.Credentials{AccessKeyID: "STS.id", AccessKeySecret: "the-secret", SecurityToken: "CAIS-token", Expiration: at.Add(time.Hour), LastUpdated: at}
	p := ossd.Params{RoleARN: "acs:ram::1:role/r", SessionName: "ossd-r", Duration: time.Hour, Policy: `{"Version":"1"}`}
	good, err := json.Marshal(file{Version: Version, Saved: "now", Entries: []entry{newEntry(p.Key(), true, "fp", c)}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(good), "", "{}", "[]", "null", `{"version":1}`, `{"version":2,"entries":[]}`,
		`{"version":1,"entries":[{"role_arn":"x"}]}`, `{"version":1,"entries":[]}{}`, `{"version":"1"}`, `{"the-secret":1}`, string(good[:len(good)/2])} {
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
		again, err := json.Marshal(file{Version: Version, Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		back, err := decode(again)
		if err != nil || !reflect.DeepEqual(back, entries) && len(entries) > 0 {
			t.Fatalf("round trip: %v; got %d entries back, want %d", err, len(back), len(entries))
		}
	})
}

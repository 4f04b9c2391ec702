package credproc_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/credproc"
)

var fixed = ossd.Credentials{
	AccessKeyID:     "STS.NUgYrLnoC37mZZCNnAbez2ssZ",
	AccessKeySecret: "fake-secret-0123456789abcdef",
	SecurityToken:   ossd.NewToken("CAIS+fake/token=="),
	Expiration:      time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC),
	LastUpdated:     time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
}

// TestOutputShape checks SPEC §4: one object, mode, both spellings with
// identical values, the Expiration layout, and a final newline.
func TestOutputShape(t *testing.T) {
	for _, c := range []ossd.Credentials{fixed, func() ossd.Credentials {
		c := fixed
		c.SecurityToken = ossd.NewToken("needs \"escaping\" <&> é")
		c.Expiration = time.Date(2030, 1, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
		return c
	}()} {
		out := credproc.AppendOutput(nil, c)
		if !bytes.HasSuffix(out, []byte("}\n")) || bytes.Count(out, []byte("\n")) != 1 {
			t.Errorf("output %q: want one line ending in a newline", out)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		var m map[string]string
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		if dec.More() {
			t.Errorf("output %q holds more than one JSON value", out)
		}
		want := map[string]string{
			"mode": "StsToken", "access_key_id": c.AccessKeyID, "access_key_secret": c.AccessKeySecret.Reveal(),
			"sts_token": c.SecurityToken.Reveal(), "expiration": c.Expiration.UTC().Format(ossd.TimeLayout),
			"AccessKeyId": c.AccessKeyID, "AccessKeySecret": c.AccessKeySecret.Reveal(),
			"SecurityToken": c.SecurityToken.Reveal(), "Expiration": c.Expiration.UTC().Format(ossd.TimeLayout),
		}
		if len(m) != len(want) {
			t.Errorf("keys = %d, want %d: %v", len(m), len(want), m)
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %q, want %q", k, m[k], v)
			}
		}
		if m["expiration"] != "2030-01-01T01:00:00Z" {
			t.Errorf("expiration = %q, want UTC 2030-01-01T01:00:00Z", m["expiration"])
		}
	}
}

// TestOutputRoundTrip parses the daemon body, renders the output, and checks
// the values survive.
func TestOutputRoundTrip(t *testing.T) {
	c, err := credproc.ParseBody(fixed.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c != fixed {
		t.Errorf("ParseBody(AppendJSON(c)) = %#v, want %#v", c, fixed)
	}
}

func BenchmarkAppendOutput(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		buf = credproc.AppendOutput(buf[:0], fixed)
	}
}

package ossd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
)

func TestSecretNeverRenders(t *testing.T) {
	s := ossd.Secret("hunter2")
	c := ossd.Credentials{AccessKeyID: "STS.id", AccessKeySecret: s, SecurityToken: ossd.NewToken("tok-value")}
	for _, got := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, s), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", c.AccessKeySecret),
	} {
		if strings.Contains(got, "hunter2") || strings.Contains(got, "tok-value") {
			t.Errorf("rendered a secret: %q", got)
		}
	}
	// Every verb, the wrong ones too: fmt's complaint about a wrong verb
	// prints the operand as it is unless the type formats itself.
	for _, v := range []any{s, c.SecurityToken, c, &c, []ossd.Secret{s}, map[string]ossd.Token{"k": c.SecurityToken}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%c", "%U", "%t", "%e", "%10s", "%-8.3q"} {
			got := fmt.Sprintf(verb, v)
			for _, leak := range []string{"hunter2", "tok-value", "68756e74657232", "\\xb6\\x8a", "unter"} {
				if strings.Contains(got, leak) {
					t.Errorf("%s of %T rendered a secret: %q", verb, v, got)
				}
			}
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s, "k", c.SecurityToken)
	if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), "tok-value") {
		t.Errorf("slog rendered a secret: %s", buf.String())
	}
}

// TestCredentialsJSON checks the SPEC §1 body: every field a string, Code
// Success, times in whole UTC seconds with a literal Z.
func TestCredentialsJSON(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	c := ossd.Credentials{
		AccessKeyID: "STS.NUgYrLnoC37mZZCNnAbez2F", AccessKeySecret: `se"cret\`, SecurityToken: ossd.NewToken("CAIS+tok/en=="),
		Expiration:  time.Date(2026, 11, 27, 5, 47, 37, 999_000_000, loc),
		LastUpdated: time.Date(2026, 11, 26, 20, 47, 37, 0, time.UTC),
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"AccessKeyId":"STS.NUgYrLnoC37mZZCNnAbez2F","AccessKeySecret":"se\"cret\\","SecurityToken":"CAIS+tok/en==",` +
		`"Expiration":"2026-11-26T21:47:37Z","LastUpdated":"2026-11-26T20:47:37Z","Code":"Success"}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for k, v := range back {
		if _, ok := v.(string); !ok {
			t.Errorf("%s is %T, want string", k, v)
		}
	}
}

func TestValid(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	full := ossd.Credentials{AccessKeyID: "a", AccessKeySecret: "b", SecurityToken: ossd.NewToken("c"), Expiration: now.Add(20 * time.Minute)}
	tests := []struct {
		name string
		c    ossd.Credentials
		min  time.Duration
		want bool
	}{
		{"plenty left", full, 16 * time.Minute, true},
		{"below floor", full, 21 * time.Minute, false},
		{"exactly at minimum", full, 20 * time.Minute, false},
		{"no token", ossd.Credentials{AccessKeyID: "a", AccessKeySecret: "b", Expiration: full.Expiration}, 0, false},
		{"zero", ossd.Credentials{}, 0, false},
	}
	for _, tc := range tests {
		if got := tc.c.Valid(now, tc.min); got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSTSErrorClassification(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &ossd.STSError{Code: "Throttling.User", Status: 400, Message: "flow control"})
	if !ossd.IsThrottled(err) || ossd.ErrorCode(err) != "Throttling.User" {
		t.Errorf("IsThrottled/ErrorCode failed on %v", err)
	}
	if ossd.IsThrottled(&ossd.STSError{Code: "InternalError"}) {
		t.Error("InternalError classified as throttling")
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain+/=", `q"uote`, `back\slash`, "ctl\x01\n", "uni-é-世", "bad\xffutf8", "<html>&"} {
		got := ossd.AppendJSONString(nil, s)
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestKeyVia: who signs is part of the key. Two chains through equal
// parents share a key; another parent, a parent's own parent, or no
// parent at all make another.
func TestKeyVia(t *testing.T) {
	hub := ossd.Params{RoleARN: "acs:ram::1:role/hub", SessionName: "ossd-hub", Duration: time.Hour}
	hub2 := hub
	child := func(via *ossd.Params) ossd.Params {
		return ossd.Params{RoleARN: "acs:ram::2:role/app", SessionName: "ossd-app", Duration: time.Hour, Via: via}
	}
	other := hub
	other.SessionName = "ossd-hub2"
	root := ossd.Params{RoleARN: "acs:ram::0:role/root", SessionName: "ossd-root", Duration: time.Hour}
	deep := hub
	deep.Via = &root
	if child(&hub).Key() != child(&hub2).Key() {
		t.Error("equal parents give different keys")
	}
	keys := map[ossd.Key]string{}
	for name, p := range map[string]ossd.Params{"source": child(nil), "hub": child(&hub), "other hub": child(&other), "hub via root": child(&deep)} {
		k := p.Key()
		if prev, dup := keys[k]; dup {
			t.Errorf("%s and %s share key %s", name, prev, k)
		}
		keys[k] = name
		if (p.Via != nil) != strings.Contains(k.String(), "/via:") {
			t.Errorf("%s: Key.String() = %s", name, k)
		}
	}
}

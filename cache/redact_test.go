package cache_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
)

// TestStateNeverShowsCredentials: a State printed or logged by any route,
// alone or inside another value, shows neither the secret nor the token,
// as text or as the bytes the token is kept in.
func TestStateNeverShowsCredentials(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
	const token = "CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ="
	var s cache.State
	s.SetCreds(ossd.Credentials{AccessKeyID: "STS.NTest", AccessKeySecret: secret, SecurityToken: ossd.NewToken(token),
		Expiration: time.Unix(2e9, 0)}, time.Unix(1.9e9, 0))
	type wrapper struct {
		state cache.State
		ptr   *cache.State
	}
	w := wrapper{s, &s}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "state", s, "ptr", &s, "w", w)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "state", s, "ptr", &s, "w", w)
	out := logs.String()
	for _, v := range []any{s, &s, w, &w, []cache.State{s}} {
		out += fmt.Sprintf("%v %+v %#v %s %q %x|", v, v, v, v, v, v)
	}
	decoded, _ := base64.StdEncoding.DecodeString(token)
	for _, leak := range []string{secret, secret[4:20], token[4:20], string(decoded[3:12]),
		fmt.Sprintf("%x", decoded[3:12]), fmt.Sprint(decoded[3:12])[1:20], fmt.Sprintf("%x", secret[4:20])} {
		if strings.Contains(out, leak) {
			t.Errorf("%q shows in the printed state", leak)
		}
	}
	if got := s.Creds(); got.AccessKeySecret.Reveal() != secret || got.SecurityToken.Reveal() != token {
		t.Errorf("the state gives back %v", got)
	}
}

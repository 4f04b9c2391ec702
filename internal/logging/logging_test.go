package logging

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedactsSecretKeys(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("x", "SecurityToken", "tok-1", "access_key_secret", "sec-2", "imds_token", "tok-3", "role", "reader")
	out := buf.String()
	for _, s := range []string{"tok-1", "sec-2", "tok-3"} {
		if strings.Contains(out, s) {
			t.Errorf("log contains %q: %s", s, out)
		}
	}
	if !strings.Contains(out, "reader") {
		t.Errorf("log dropped a harmless value: %s", out)
	}
}

func TestBadSettings(t *testing.T) {
	for _, tc := range [][2]string{{"loud", "text"}, {"info", "xml"}} {
		if _, err := New(&bytes.Buffer{}, tc[0], tc[1]); err == nil {
			t.Errorf("New(%q, %q) succeeded", tc[0], tc[1])
		} else if !strings.Contains(err.Error(), "want") {
			t.Errorf("error %q does not say what is accepted", err)
		}
	}
}

// Package logging builds the daemon's slog logger. Its ReplaceAttr is a
// backstop behind the [ossd.Secret] type: any attribute whose key looks like
// a secret is dropped to REDACTED whatever its type.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/ossd/ossd"
)

var secretKey = regexp.MustCompile(`(?i)token|secret|password|signature|authorization`)

// New returns a logger writing to w at level ("debug", "info", "warn",
// "error") in format ("text" or "json").
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(orDefault(level, "info")))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redact}
	switch orDefault(format, "text") {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if secretKey.MatchString(a.Key) {
		return slog.String(a.Key, ossd.Redacted)
	}
	return a
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

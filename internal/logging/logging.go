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
	"sync"

	"github.com/ossd/ossd"
)

// secretKey matches attribute keys whose values are REDACTED. It is
// compiled on first use: compiled at package init, it would cost every ossd
// command, the credential helper included, its start-up time.
var secretKey = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)token|secret|password|signature|authorization`)
})

// New returns a logger writing to w at level ("debug", "info", "warn",
// "error") in format ("text" or "json").
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	var v slog.LevelVar
	v.Set(lv)
	return NewVar(w, &v, format)
}

// ParseLevel parses "debug", "info", "warn" or "error"; "" is info.
func ParseLevel(level string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(orDefault(level, "info")))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return lv, nil
}

// NewVar is New with a level that can change while the daemon runs.
func NewVar(w io.Writer, level *slog.LevelVar, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	switch orDefault(format, "text") {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if secretKey().MatchString(a.Key) {
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

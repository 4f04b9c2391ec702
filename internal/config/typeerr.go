package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// TypeError is a value of the wrong TOML type, such as a number where a
// string belongs. Key is its dotted TOML path without role indexes
// ("source.access_key_secret", "role.allow.uids").
type TypeError struct {
	Line int
	Key  string
	Want string // "a string", "an integer", ...
	Got  string // the TOML type written: "integer", "string", ...
}

// Error returns "line L: key: want X, not Y".
func (e *TypeError) Error() string {
	return fmt.Sprintf("line %d: %s: want %s, not %s %s", e.Line, e.Key, e.Want, article(e.Got), e.Got)
}

var decodeTypeRe = sync.OnceValue(func() *regexp.Regexp { // compiled on first use, not by every ossd command
	return regexp.MustCompile(`^cannot decode TOML (\w+) into .* of type (\S+)$`)
})

// typeError turns go-toml's type mismatch, which names Go types, into a
// *TypeError that names TOML ones.
func typeError(de *toml.DecodeError) (error, bool) {
	m := decodeTypeRe().FindStringSubmatch(strings.TrimPrefix(de.Error(), "toml: "))
	if m == nil || len(de.Key()) == 0 {
		return nil, false
	}
	line, _ := de.Position()
	return &TypeError{Line: line, Key: strings.Join(de.Key(), "."), Want: tomlWant(m[2]), Got: m[1]}, true
}

// tomlWant names in TOML terms what a Go type decodes from.
func tomlWant(goType string) string {
	elem, slice := strings.CutPrefix(goType, "[]")
	var w string
	switch elem {
	case "string", "ossd.Secret", "config.Duration":
		w = "a string"
	case "bool":
		w = "true or false"
	case "float32", "float64":
		w = "a number"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		w = "an integer"
	default:
		w = "a table"
	}
	if slice {
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(w, "an "), "a ") + "s"
	}
	return w
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

// blankValue comments out line (1-based) of data, where a value of the
// wrong type starts at column col, keeping every other line where it is.
// It reports false for a value that may go on over more lines (an array,
// an inline table, a multi-line string): blanking its first line would
// leave the rest to be misread.
func blankValue(data []byte, line, col int) ([]byte, bool) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return data, false
	}
	l := lines[line-1]
	if col < 1 || col > len(l) {
		return data, false
	}
	v := bytes.TrimSpace(l[col-1:])
	if len(v) == 0 || bytes.ContainsAny(v[:1], "[{") || bytes.HasPrefix(v, []byte(`"""`)) || bytes.HasPrefix(v, []byte("'''")) {
		return data, false
	}
	out := make([]byte, 0, len(data)+1)
	for i, x := range lines {
		if i == line-1 {
			out = append(out, '#')
		}
		out = append(out, x...)
	}
	return out, true
}

// dropTyped removes from err the problems of settings already reported as
// TypeErrors: their value was dropped, so what Validate says of the
// default in its place would mislead.
func dropTyped(err error, typeErrs []error) []error {
	keys := map[string]bool{}
	for _, e := range typeErrs {
		var te *TypeError
		if errors.As(e, &te) {
			keys[te.Key] = true
		}
	}
	var out []error
	for _, e := range unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) && keys[roleIndexRe().ReplaceAllString(fe.Field, "")] {
			continue
		}
		out = append(out, e)
	}
	return out
}

var roleIndexRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[[0-9]+\]`) })

// unjoin returns the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

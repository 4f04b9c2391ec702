package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/ossd/ossd/internal/sessionname"
)

// maxConfigSize bounds what Parse reads. Real configs are a few KiB; large
// policies belong in policy_file. The bound also caps go-toml's strict mode,
// which costs O(document size) per unknown key.
const maxConfigSize = 256 << 10

// Parse decodes a TOML config from r, applies defaults and validates it.
//
// Decoding is strict: an unknown key is an error naming the key and its
// line, and a syntax or type error names the line and column. Settings left
// out keep their defaults; a setting written out, even as 0 or "", is
// validated as written. Per-role defaults (session_name, and a duration that
// is absent or zero) are applied after decoding. An inline policy is
// compacted (JSON whitespace removed).
//
// Parse is pure: it does no logging, no file I/O and reads no environment.
// It does not read policy_file; use [Load] for that.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config is larger than %d bytes", maxConfigSize)
	}
	c, typeErrs, err := decodeStrict(data)
	if err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := errors.Join(append(typeErrs, dropTyped(c.Validate(), typeErrs)...)...); err != nil {
		return nil, err
	}
	return c, nil
}

// maxTypeErrors bounds how many values of the wrong type Parse reports
// before it stops looking for more.
const maxTypeErrors = 32

// decodeStrict decodes data into a default Config. A value of the wrong
// type (access_key_secret = 123) stops go-toml's decoder, so each is
// recorded, its line blanked, and the document decoded again: every such
// value is reported with every other problem. Unknown keys come back among
// the problems too; go-toml decodes every known key before it reports them.
// A syntax error ends the decoding: what follows it cannot be read.
func decodeStrict(data []byte) (*Config, []error, error) {
	var problems []error
	for {
		c := Default()
		dec := toml.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err := dec.Decode(c)
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case err == nil:
			return c, problems, nil
		case errors.As(err, &strict):
			return c, append(problems, decodeError(err)), nil
		case errors.As(err, &de) && len(problems) < maxTypeErrors:
			te, ok := typeError(de)
			if !ok {
				return nil, nil, errors.Join(append(problems, decodeError(err))...)
			}
			problems = append(problems, te)
			line, col := de.Position()
			var blanked bool
			if data, blanked = blankValue(data, line, col); !blanked {
				return nil, nil, errors.Join(problems...)
			}
		default:
			return nil, nil, errors.Join(append(problems, decodeError(err))...)
		}
	}
}

// decodeError rewrites go-toml's errors as "line L: ..." messages.
func decodeError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			what := "key"
			if strings.HasSuffix(e.Error(), "missing table") {
				what = "table"
			}
			errs = append(errs, fmt.Errorf("line %d: unknown %s %s", line, what, quote(strings.Join(e.Key(), "."))))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return fmt.Errorf("line %d, column %d: %s", line, col, msg)
	}
	return fmt.Errorf("decode config: %w", err)
}

// applyDefaults fills what depends on other settings or on each role.
func (c *Config) applyDefaults() {
	if c.STS.Endpoint == "" && validRegion(c.STS.Region) {
		c.STS.Endpoint = defaultEndpoint(c.STS.Region)
	}
	for i := range c.Roles {
		r := &c.Roles[i]
		if r.SessionName == "" {
			r.SessionName = defaultSessionName(r.Name)
		}
		if r.Duration == 0 {
			r.Duration = Duration(DefaultDuration)
		}
		if r.SessionPer == "" {
			r.SessionPer = string(sessionname.PerRole)
		}
		r.Policy = compactJSON(r.Policy)
	}
}

// defaultSessionName returns "ossd-<name>", made a valid session name.
func defaultSessionName(name string) string {
	b := []byte("ossd-" + name)
	for i, c := range b {
		if !sessionNameByte(c) {
			b[i] = '-'
		}
	}
	if len(b) > maxSessionName {
		b = b[:maxSessionName]
	}
	return string(b)
}

// compactJSON removes insignificant whitespace from s, or returns s as it is
// when it is not JSON (Validate reports that).
func compactJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return s
	}
	return buf.String()
}

// checkDuration reports d outside lo..hi.
func checkDuration(p *problems, field string, d Duration, lo, hi time.Duration) {
	if v := time.Duration(d); v < lo || v > hi {
		p.add(field, rangeError(d, lo, hi))
	}
}

func rangeError(d Duration, lo, hi time.Duration) error {
	hint := ""
	if d > 0 && d < Duration(time.Millisecond) {
		hint = ` (a bare number is nanoseconds: write a string like "5s")`
	}
	return fmt.Errorf("%s out of range %s..%s%s", d, lo, hi, hint)
}

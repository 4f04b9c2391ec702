package config

import (
	"fmt"
	"time"
)

// Duration is a [time.Duration] written in TOML as a string that
// [time.ParseDuration] accepts, such as "90s" or "1h30m". Convert with
// time.Duration(d).
//
// A bare TOML integer is stored as nanoseconds (the decoder assigns it
// directly), which is out of range for every duration setting, so Validate
// rejects it.
type Duration time.Duration

// UnmarshalText implements [encoding.TextUnmarshaler]. The decoder adds the
// line and the key to the error.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"90s\" or \"1h\"", quote(string(b)))
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements [encoding.TextMarshaler], so a Config encodes back
// to TOML that parses to the same value.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String formats d like [time.Duration.String].
func (d Duration) String() string { return time.Duration(d).String() }

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const limit = 100
	if r := []rune(s); len(r) > limit {
		return fmt.Sprintf("%q...", string(r[:limit]))
	}
	return fmt.Sprintf("%q", s)
}

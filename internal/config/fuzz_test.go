package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
	"github.com/pelletier/go-toml/v2"
)

// FuzzParse checks that Parse never panics, that what it accepts passes
// Validate, and that an accepted config survives a TOML round trip.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := config.Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
			t.Fatalf("encode accepted config: %v", err)
		}
		first := buf.String()
		again, err := config.Parse(&buf)
		if err != nil {
			t.Fatalf("Parse(encoded config) = %v\n%s", err, first)
		}
		// Compare encodings: an absent list and an empty one are the same
		// config, but not the same Go value.
		buf.Reset()
		if err := toml.NewEncoder(&buf).Encode(again); err != nil {
			t.Fatalf("encode round-tripped config: %v", err)
		}
		if buf.String() != first {
			t.Fatalf("round trip changed the config:\n%s\n---\n%s", first, buf.String())
		}
	})
}

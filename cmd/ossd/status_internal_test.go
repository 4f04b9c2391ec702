package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/ready"
)

// TestPrintSTS: status mentions STS only when something is off: a clock
// more than a minute away, or a rate cut by throttling.
func TestPrintSTS(t *testing.T) {
	for _, tc := range []struct {
		sts  ready.STS
		want []string
	}{
		{ready.STS{ClockOffsetSeconds: 2, RateLimit: 20, MaxQPS: 20}, nil},
		{ready.STS{ClockOffsetSeconds: 3 * 3600, RateLimit: 20, MaxQPS: 20}, []string{"sts clock: 3h0m0s from ours"}},
		{ready.STS{ClockOffsetSeconds: -90, RateLimit: 20, MaxQPS: 20}, []string{"sts clock: -1m30s from ours"}},
		{ready.STS{RateLimit: 1.5, MaxQPS: 20}, []string{"sts rate: 1.5 AssumeRole calls/s of max_qps 20"}},
	} {
		var b bytes.Buffer
		printSTS(&b, &tc.sts)
		if got := b.String(); len(tc.want) == 0 && got != "" {
			t.Errorf("%+v: printed %q, want nothing", tc.sts, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%+v: printed %q, want %q", tc.sts, b.String(), w)
			}
		}
	}
}

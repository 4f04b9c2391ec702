package ossd

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential string (an AccessKeySecret, a SecurityToken, a
// metadata token). It renders as REDACTED in logs and under every fmt verb,
// but JSON-encodes its real value, because serving it is the daemon's job.
type Secret string

// Redacted is how a Secret renders anywhere but JSON.
const Redacted = "REDACTED"

// String returns REDACTED.
func (Secret) String() string { return Redacted }

// GoString returns REDACTED; %#v would otherwise bypass String.
func (Secret) GoString() string { return Redacted }

// Format writes REDACTED for every verb: fmt prints a string type as it is
// under the verbs String does not serve (%d, %o, %b, ...), in its
// "%!d(ossd.Secret=...)" complaint.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// LogValue returns REDACTED for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Reveal returns the secret's value. Call it only where the value leaves the
// process on purpose: a response body, a signature.
func (s Secret) Reveal() string { return string(s) }

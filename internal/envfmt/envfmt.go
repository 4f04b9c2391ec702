package envfmt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ossd/ossd"
)

// The variables every official SDK's environment provider reads.
const (
	AccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	AccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	SecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

// Formats are the names Append accepts.
var Formats = []string{"sh", "fish", "dotenv"}

// ErrUnsafe is returned for a value a format cannot hold faithfully.
var ErrUnsafe = errors.New("value cannot be written safely")

// Var is one variable assignment.
type Var struct{ Name, Value string }

// Vars returns the three variables of c, in the order the SDKs read them.
func Vars(c ossd.Credentials) []Var {
	return []Var{
		{AccessKeyID, c.AccessKeyID},
		{AccessKeySecret, c.AccessKeySecret.Reveal()},
		{SecurityToken, c.SecurityToken.Reveal()},
	}
}

// Append appends vars to b in format (one of Formats), after a comment
// saying when the credentials expire and that the values do not refresh.
func Append(b []byte, format string, expires time.Time, vars []Var) ([]byte, error) {
	var quote func(string) (string, error)
	var line string
	switch format {
	case "sh":
		quote, line = shQuote, "export %s=%s\n"
	case "fish":
		quote, line = fishQuote, "set -gx %s %s\n"
	case "dotenv":
		quote, line = dotenvQuote, "%s=%s\n"
	default:
		return b, fmt.Errorf("unknown format %q: want one of %s, json", format, strings.Join(Formats, ", "))
	}
	b = fmt.Appendf(b, "# ossd: these credentials expire at %s and do not refresh\n", expires.UTC().Format(ossd.TimeLayout))
	for _, v := range vars {
		if strings.IndexByte(v.Value, 0) >= 0 {
			return b, fmt.Errorf("%s: %w: it holds a NUL byte", v.Name, ErrUnsafe)
		}
		q, err := quote(v.Value)
		if err != nil {
			return b, fmt.Errorf("%s: %w", v.Name, err)
		}
		b = fmt.Appendf(b, line, v.Name, q)
	}
	return b, nil
}

// shQuote single-quotes s for a POSIX shell: nothing inside single quotes
// is special, and each quote in s closes the quoting, adds an escaped
// quote and reopens it.
func shQuote(s string) (string, error) {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// fishQuote single-quotes s for fish, where inside single quotes only \\
// and \' are escapes.
func fishQuote(s string) (string, error) {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'", nil
}

// dotenvQuote writes s bare when every reader takes it literally, else in
// single quotes, and refuses what readers disagree on.
func dotenvQuote(s string) (string, error) {
	if s != "" && strings.Trim(s, bareChars) == "" {
		return s, nil
	}
	if strings.ContainsAny(s, "'\\\n\r") {
		return "", fmt.Errorf("%w in dotenv format (it holds a quote, backslash or line break); use --format sh or json", ErrUnsafe)
	}
	return "'" + s + "'", nil
}

// bareChars may stand unquoted in a dotenv value: no space, quote, $, #,
// backslash or backtick.
const bareChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+=:@%,-"

package envfmt

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var expiry = time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC)

// hostile are values that break naive quoting: every shell metacharacter,
// the quotes themselves, and line breaks.
var hostile = []string{
	"STS.plain123",
	"a'b",
	`a"b`,
	"$HOME",
	"${HOME}",
	"`id`",
	"$(id)",
	`back\slash`,
	`\'`,
	"'",
	"''",
	"line\nbreak",
	"trailing\n",
	"cr\rlf",
	"tab\there",
	" lead and trail ",
	"#comment",
	"a;b&c|d>e<f",
	"*?[a]~",
	"ünïcode ✓",
	"",
}

// TestShRealShell evaluates the sh output in every POSIX shell on the
// machine and reads each value back byte for byte.
func TestShRealShell(t *testing.T) {
	shells := installed(t, "sh", "dash", "bash")
	for _, sh := range shells {
		for _, v := range hostile {
			got := evalIn(t, sh, "sh", v, `printf '%s' "$ALIBABA_CLOUD_SECURITY_TOKEN"`)
			if got != v {
				t.Errorf("%s: value %q read back as %q", sh, v, got)
			}
		}
	}
}

// TestFishRealShell does the same in fish, when it is installed (CI
// installs it).
func TestFishRealShell(t *testing.T) {
	if len(installed(t, "fish")) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("fish not found; CI must install it (apt-get install fish)")
		}
		t.Skip("fish not installed: the fish format is checked by TestFishRules only")
	}
	for _, v := range hostile {
		if got := evalIn(t, "fish", "fish", v, `printf '%s' "$ALIBABA_CLOUD_SECURITY_TOKEN"`); got != v {
			t.Errorf("fish: value %q read back as %q", v, got)
		}
	}
}

func installed(t *testing.T, names ...string) []string {
	var out []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// evalIn runs format's output for a token v, then print, in shell.
func evalIn(t *testing.T, shell, format, v, print string) string {
	t.Helper()
	b, err := Append(nil, format, expiry, []Var{{AccessKeyID, "STS.x"}, {SecurityToken, v}})
	if err != nil {
		t.Fatalf("Append(%s, %q): %v", format, v, err)
	}
	cmd := exec.Command(shell, "-c", string(b)+print)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v for value %q\n%s", shell, err, v, b)
	}
	return string(out)
}

// TestFishRules reads the fish output back by fish's rules for single
// quotes, so the format is checked where fish is not installed.
func TestFishRules(t *testing.T) {
	for _, v := range hostile {
		q, err := fishQuote(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := unquoteFish(q)
		if !ok || got != v {
			t.Errorf("fishQuote(%q) = %s, reads back as %q (ok %v)", v, q, got, ok)
		}
	}
}

// unquoteFish reads one fish single-quoted word: inside, \\ is \ and \' is
// ', and any other backslash is literal.
func unquoteFish(q string) (string, bool) {
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body) && (body[i+1] == '\\' || body[i+1] == '\''):
			b.WriteByte(body[i+1])
			i++
		case c == '\'':
			return "", false // an unescaped quote would end the word early
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// unquoteSh reads one POSIX word made of single-quoted runs and \'.
func unquoteSh(q string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(q); {
		switch {
		case q[i] == '\'':
			end := strings.IndexByte(q[i+1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(q[i+1 : i+1+end])
			i += end + 2
		case q[i] == '\\' && i+1 < len(q):
			b.WriteByte(q[i+1])
			i += 2
		default:
			return "", false // anything unquoted could be expanded
		}
	}
	return b.String(), true
}

func TestDotenvRules(t *testing.T) {
	tests := []struct {
		in, want string
		unsafe   bool
	}{
		{in: "STS.abcDEF123", want: "STS.abcDEF123"},
		{in: "CAIS+/x==", want: "CAIS+/x=="},
		{in: "", want: "''"},
		{in: "$HOME", want: "'$HOME'"},
		{in: "`id`", want: "'`id`'"},
		{in: "a b", want: "'a b'"},
		{in: `a"b`, want: `'a"b'`},
		{in: "#x", want: "'#x'"},
		{in: "a'b", unsafe: true},
		{in: `a\b`, unsafe: true},
		{in: "a\nb", unsafe: true},
		{in: "a\rb", unsafe: true},
	}
	for _, tt := range tests {
		got, err := dotenvQuote(tt.in)
		switch {
		case tt.unsafe && !errors.Is(err, ErrUnsafe):
			t.Errorf("dotenvQuote(%q) = %q, %v; want ErrUnsafe", tt.in, got, err)
		case !tt.unsafe && (err != nil || got != tt.want):
			t.Errorf("dotenvQuote(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAppend(t *testing.T) {
	vars := []Var{{AccessKeyID, "STS.k"}, {AccessKeySecret, "s"}, {SecurityToken, "t"}}
	tests := []struct{ format, want string }{
		{"sh", "export ALIBABA_CLOUD_ACCESS_KEY_ID='STS.k'\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET='s'\nexport ALIBABA_CLOUD_SECURITY_TOKEN='t'\n"},
		{"fish", "set -gx ALIBABA_CLOUD_ACCESS_KEY_ID 'STS.k'\nset -gx ALIBABA_CLOUD_ACCESS_KEY_SECRET 's'\nset -gx ALIBABA_CLOUD_SECURITY_TOKEN 't'\n"},
		{"dotenv", "ALIBABA_CLOUD_ACCESS_KEY_ID=STS.k\nALIBABA_CLOUD_ACCESS_KEY_SECRET=s\nALIBABA_CLOUD_SECURITY_TOKEN=t\n"},
	}
	const comment = "# ossd: these credentials expire at 2030-01-01T01:00:00Z and do not refresh\n"
	for _, tt := range tests {
		got, err := Append(nil, tt.format, expiry, vars)
		if err != nil || string(got) != comment+tt.want {
			t.Errorf("Append(%s) = %q, %v; want %q", tt.format, got, err, comment+tt.want)
		}
	}
	if _, err := Append(nil, "csh", expiry, vars); err == nil || !strings.Contains(err.Error(), "sh, fish, dotenv") {
		t.Errorf("Append(csh) error = %v, want one naming the formats", err)
	}
	if _, err := Append(nil, "sh", expiry, []Var{{SecurityToken, "a\x00b"}}); !errors.Is(err, ErrUnsafe) {
		t.Errorf("Append with a NUL byte: %v, want ErrUnsafe", err)
	}
}

// FuzzQuote checks that what sh and fish quoting writes reads back as the
// value, by each shell's rules, and that dotenv either refuses or writes a
// value that is bare-safe or single-quoted without a quote inside.
func FuzzQuote(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, _ := shQuote(v)
		if got, ok := unquoteSh(q); !ok || got != v {
			t.Fatalf("shQuote(%q) = %s reads back as %q", v, q, got)
		}
		q, _ = fishQuote(v)
		if got, ok := unquoteFish(q); !ok || got != v {
			t.Fatalf("fishQuote(%q) = %s reads back as %q", v, q, got)
		}
		q, err := dotenvQuote(v)
		if err != nil {
			return
		}
		if q != v && (q != "'"+v+"'" || strings.ContainsAny(v, "'\\\n\r")) {
			t.Fatalf("dotenvQuote(%q) = %q", v, q)
		}
		if q == v && (v == "" || strings.Trim(v, bareChars) != "") {
			t.Fatalf("dotenvQuote(%q) left a value bare that needs quotes", v)
		}
	})
}

package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Limits of the STS AssumeRole parameters (SPEC §6).
const (
	maxSessionName = 64
	maxPolicy      = 2048
	minExternalID  = 2
	maxExternalID  = 1224
)

// Compiled on first use (see lazyRE); regexps are safe for concurrent use and
// never modified.
var (
	roleARNRe      = lazyRegexp(`^acs:ram::[0-9]{16}:role/[A-Za-z0-9._-]{1,64}$`)
	oidcProviderRe = lazyRegexp(`^acs:ram::[0-9]{16}:oidc-provider/[A-Za-z0-9._-]{1,128}$`)
	sessionNameRe  = lazyRegexp(`^[A-Za-z0-9.@_-]{2,64}$`)
	nameRe         = lazyRegexp(`^[A-Za-z0-9_.-]{1,64}$`)
	regionRe       = lazyRegexp(`^[a-z0-9]{1,32}(-[a-z0-9]{1,32}){0,4}$`)
	accountRe      = lazyRegexp(`^[0-9]{16}$`)
	groupRe        = lazyRegexp(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)
)

// ValidRoleARN reports whether s is a RAM role ARN,
// acs:ram::<account-id>:role/<name> with a 16-digit account id and a name
// of 1-64 of [A-Za-z0-9._-].
// The prefix is matched exactly, in lower case.
func ValidRoleARN(s string) error {
	if !roleARNRe.MatchString(s) {
		return fmt.Errorf("malformed role ARN %s: want acs:ram::<account-id>:role/<name>%s", quote(s), accountHint(s))
	}
	return nil
}

// accountHint explains a malformed account id in an ARN, or returns "".
// Alibaba Cloud account ids are 16 digits.
func accountHint(arn string) string {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || accountRe.MatchString(id) {
		return ""
	}
	return fmt.Sprintf(" (account id %s: want the 16 digits of the account)", quote(id))
}

// ValidSessionName reports whether s is a valid RoleSessionName: 2-64 of
// [A-Za-z0-9.@_-].
func ValidSessionName(s string) error {
	if !sessionNameRe.MatchString(s) {
		return fmt.Errorf("malformed session name %s: want 2-64 of [A-Za-z0-9.@_-]", quote(s))
	}
	return nil
}

func sessionNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '@' || c == '_' || c == '-'
}

// ValidPolicy reports whether s is an STS session policy that AssumeRole
// accepts: a JSON object of 1-2048 bytes with "Version": "1" and a
// non-empty "Statement" array of objects.
func ValidPolicy(s string) error {
	if len(s) == 0 || len(s) > maxPolicy {
		return fmt.Errorf("policy is %d bytes, want 1..%d", len(s), maxPolicy)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errors.New("policy is not a JSON object")
		}
		return fmt.Errorf("policy is not valid JSON: %w", err)
	}
	var version string
	if err := json.Unmarshal(doc["Version"], &version); err != nil || version != "1" {
		return errors.New(`policy needs "Version": "1"`)
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc["Statement"], &stmts); err != nil || len(stmts) == 0 {
		return errors.New(`policy needs a non-empty "Statement" array`)
	}
	for i, st := range stmts {
		if st == nil {
			return fmt.Errorf("policy Statement[%d] is not an object", i)
		}
	}
	return nil
}

// validOIDCProviderARN checks acs:ram::<account-id>:oidc-provider/<name>.
func validOIDCProviderARN(s string) error {
	if !oidcProviderRe.MatchString(s) {
		return fmt.Errorf("malformed OIDC provider ARN %s: want acs:ram::<account-id>:oidc-provider/<name>%s", quote(s), accountHint(s))
	}
	return nil
}

// validRegion reports whether s looks like a region id, safe to put in a
// host name.
func validRegion(s string) bool { return regionRe.MatchString(s) }

// validEndpoint accepts http(s)://host[:port] and nothing more.
func validEndpoint(s string) error {
	const want = "want http(s)://host[:port]"
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("malformed endpoint %s: %s", quote(s), want)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("endpoint %s: scheme must be http or https", quote(s))
	case u.Opaque != "" || u.User != nil || u.Hostname() == "":
		return fmt.Errorf("endpoint %s: %s", quote(s), want)
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("endpoint %s has a path, query or fragment: %s", quote(s), want)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("endpoint %s: bad port", quote(s))
		}
	} else if _, p, err := net.SplitHostPort(u.Host); err == nil && p == "" {
		return fmt.Errorf("endpoint %s: empty port", quote(s))
	}
	return nil
}

// parseMode parses an octal permission string such as "0600".
func parseMode(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || len(s) > 4 {
		return 0, fmt.Errorf("invalid mode %s: want an octal string like \"0600\"", quote(s))
	}
	if v&^0o777 != 0 {
		return 0, fmt.Errorf("mode %s sets bits outside 0777", quote(s))
	}
	return fs.FileMode(v), nil
}

// lazyRE is a regexp compiled on first use. Compiled at package init, these
// cost every ossd invocation about 2-4 ms (the repetition counts expand into
// large programs), the credential helper included, which never uses them.
type lazyRE func() *regexp.Regexp

func lazyRegexp(expr string) lazyRE {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// MatchString reports whether s matches.
func (l lazyRE) MatchString(s string) bool { return l().MatchString(s) }

package localsts

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// assumeRequest is a checked AssumeRole request.
type assumeRequest struct {
	role     role
	session  string
	duration time.Duration
}

// maxChained is STS's cap on a session assumed with another role's STS
// credentials (role chaining), whatever the role's own maximum.
const maxChained = time.Hour

// parseAssume checks the AssumeRole parameters. Empty optional parameters
// count as absent, as the SDK never sends empty ones. A chained call, signed
// by an STS. key, may ask for at most maxChained.
func (s *Server) parseAssume(p url.Values, chained bool) (assumeRequest, *apiError) {
	arn := p.Get("RoleArn")
	if arn == "" {
		return assumeRequest{}, errorf(400, "MissingRoleArn", "RoleArn is mandatory for this action.")
	}
	if _, _, ok := parseRoleArn(arn); !ok {
		return assumeRequest{}, errorf(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
	}
	session := p.Get("RoleSessionName")
	if session == "" {
		return assumeRequest{}, errorf(400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
	}
	if !validSessionName(session) {
		return assumeRequest{}, errorf(400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	if pol := p.Get("Policy"); pol != "" && !validPolicy(pol) {
		return assumeRequest{}, errorf(400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check.")
	}
	if ext := p.Get("ExternalId"); ext != "" && !validExternalID(ext) {
		return assumeRequest{}, errorf(400, "InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.")
	}
	r, ok := s.lookupRole(arn)
	if !ok {
		return assumeRequest{}, errorf(404, "EntityNotExist.Role", "The role not exists: %s.", arn)
	}
	limit := r.maxSession
	if chained {
		limit = min(limit, maxChained)
	}
	d, ok := parseDuration(p.Get("DurationSeconds"), limit)
	if !ok {
		return assumeRequest{}, errorf(400, "InvalidParameter.DurationSeconds",
			"The Min/Max value of DurationSeconds is 15min/%dhr.", int(limit/time.Hour))
	}
	return assumeRequest{role: r, session: session, duration: d}, nil
}

// parseRoleArn splits "acs:ram::<account digits>:role/<name>", where the name
// is 1-64 characters of letters, digits, '.', '-' and '_'.
func parseRoleArn(arn string) (account, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return "", "", false
	}
	account, name, ok = strings.Cut(rest, ":role/")
	if !ok || account == "" || strings.Trim(account, "0123456789") != "" {
		return "", "", false
	}
	if len(name) < 1 || len(name) > 64 || !allOf(name, "._-") {
		return "", "", false
	}
	return account, name, true
}

// validSessionName reports whether s is 2-64 characters of [A-Za-z0-9.@_-].
func validSessionName(s string) bool {
	return len(s) >= 2 && len(s) <= 64 && allOf(s, ".@_-")
}

// validExternalID reports whether s is 2-1224 characters of
// [A-Za-z0-9_+=,.@:/-].
func validExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && allOf(s, "_+=,.@:/-")
}

// allOf reports whether s holds only ASCII letters, digits and bytes of
// extra.
func allOf(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// validPolicy reports whether p is 1-2048 characters of JSON object with
// "Version":"1" and a non-empty "Statement" array of objects.
func validPolicy(p string) bool {
	if n := utf8.RuneCountInString(p); n < 1 || n > 2048 {
		return false
	}
	var doc map[string]json.RawMessage // a map: field names must match exactly
	if err := json.Unmarshal([]byte(p), &doc); err != nil {
		return false
	}
	var version string
	if err := json.Unmarshal(doc["Version"], &version); err != nil || version != "1" {
		return false
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc["Statement"], &stmts); err != nil || len(stmts) == 0 {
		return false
	}
	for _, st := range stmts {
		if st == nil {
			return false
		}
	}
	return true
}

// parseDuration parses DurationSeconds: default 3600, 900..limit.
func parseDuration(v string, limit time.Duration) (time.Duration, bool) {
	if v == "" {
		v = "3600"
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	if n < 900 || n > int(limit/time.Second) { // compare seconds: no overflow
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

package presign

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/config"
)

// Prepare checks r, fills in the defaults from the role's presign policy p
// (as returned by config.Role.PresignPolicy), and refuses what p does not
// allow. The Input it returns with an error is as far as checking got, for
// the audit log.
func Prepare(r *Request, p config.Presign) (*Input, error) {
	in, err := r.check()
	if err != nil {
		return nil, err
	}
	return in, applyPolicy(in, r, r.Role, p)
}

// applyPolicy fills in's defaults from p and refuses what p does not allow.
// r is the request as sent, for the settings a request may leave to the
// policy.
func applyPolicy(in *Input, r *Request, role string, p config.Presign) error {
	if in.Expires == 0 {
		in.Expires = min(DefaultExpires, time.Duration(p.MaxExpires))
	}
	if err := allowed(in, role, p); err != nil {
		return err
	}
	in.Region, in.CloudBoxID = cmp.Or(r.Region, p.Region), cmp.Or(r.CloudBoxID, p.CloudBoxID)
	in.URLStyle = cmp.Or(in.URLStyle, p.URLStyle)
	endpoint := cmp.Or(r.Endpoint, p.Endpoint)
	// A V4 scope names the region, or the CloudBox instead; a default
	// endpoint always names the region.
	if in.Region == "" && (in.CloudBoxID == "" || endpoint == "") {
		return badRequest(CodeMissingRegion, "no region: give one, or set presign.region for role %s (OSS signatures and default endpoints name the bucket's region)", quote(role))
	}
	switch {
	case endpoint != "":
	case in.CloudBoxID != "":
		endpoint = config.CloudBoxEndpoint(in.CloudBoxID, in.Region)
	default:
		endpoint = "https://oss-" + in.Region + ".aliyuncs.com"
	}
	var err error
	if in.Endpoint, err = parseEndpoint(endpoint); err != nil {
		return err
	}
	if err := config.CheckCloudBox(in.Endpoint.Hostname(), in.CloudBoxID); err != nil {
		code := CodeInvalidEndpoint
		if errors.Is(err, config.ErrNoCloudBoxID) {
			code = CodeMissingCloudBox
		}
		return badRequest(code, "%v", err)
	}
	return nil
}

// allowed checks in against the policy.
func allowed(in *Input, role string, p config.Presign) error {
	switch {
	case !slices.Contains(p.Buckets, in.Bucket):
		return forbidden(CodeBucketDenied, "role %s may not sign URLs for bucket %s; allowed: %s", quote(role), quote(in.Bucket), strings.Join(p.Buckets, ", "))
	case !slices.ContainsFunc(p.Prefixes, func(pre string) bool { return strings.HasPrefix(in.Key, pre) }):
		return forbidden(CodeKeyDenied, "role %s may not sign URLs for key %s; keys must start with one of %s", quote(role), quote(in.Key), quoteAll(p.Prefixes))
	case !slices.Contains(p.Methods, in.Method):
		return forbidden(CodeOperationDenied, "role %s may not sign %s URLs; allowed: %s", quote(role), in.Method, strings.Join(p.Methods, ", "))
	case in.Expires > time.Duration(p.MaxExpires):
		return forbidden(CodeExpiresTooLong, "expires %s is longer than role %s allows: the longest possible expiry is %s (presign.max_expires; a URL never outlives the token it is signed with, and presign.max_session_duration is %s)",
			in.Expires, quote(role), p.MaxExpires, p.MaxSessionDuration)
	}
	return nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

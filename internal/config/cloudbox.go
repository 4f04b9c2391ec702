package config

import (
	"errors"
	"fmt"
	"strings"
)

// OSS on CloudBox signs with its own V4 scope: the product "oss-cloudbox"
// and, in place of the region, the CloudBox id. The OSS Go SDK v2 does so
// when given Config.CloudBoxId, or when it detects a CloudBox endpoint,
// cb-<id>.<region>.oss-cloudbox.aliyuncs.com (data) or
// cb-<id>.<region>.oss-cloudbox-control.aliyuncs.com (control), with
// EnableAutoDetectCloudBoxId (resolveCloudBox in oss/client.go, v1.6.1).
// ossd never guesses: a CloudBox endpoint needs an explicit cloudbox_id.
const (
	cloudBoxDataSuffix    = ".oss-cloudbox.aliyuncs.com"
	cloudBoxControlSuffix = ".oss-cloudbox-control.aliyuncs.com"
)

var cloudBoxIDRe = lazyRegexp(`^cb-[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$`)

// ErrNoCloudBoxID is wrapped by [CheckCloudBox]'s error for a CloudBox
// endpoint without a CloudBox id.
var ErrNoCloudBoxID = errors.New("CloudBox endpoint without cloudbox_id")

// ValidCloudBoxID reports whether s is a CloudBox id such as
// cb-f8z7yvzgwfkl9q0h: "cb-" and lower-case letters, digits and '-', one
// host-name label of at most 63 bytes (it names the default endpoint).
func ValidCloudBoxID(s string) error {
	if !cloudBoxIDRe.MatchString(s) {
		return fmt.Errorf("malformed CloudBox id %s: want \"cb-\" and then lower-case letters, digits and '-', like cb-f8z7yvzgwfkl9q0h", quote(s))
	}
	return nil
}

// CloudBoxEndpoint returns the data endpoint of CloudBox id in region,
// https://<id>.<region>.oss-cloudbox.aliyuncs.com.
func CloudBoxEndpoint(id, region string) string {
	return "https://" + id + "." + region + cloudBoxDataSuffix
}

// CheckCloudBox reports whether a URL for the endpoint host (without port),
// signed for CloudBox id (empty: not a CloudBox), can be valid: a CloudBox
// endpoint needs an id (the error wraps [ErrNoCloudBoxID]), the one its name
// carries, and a public OSS endpoint takes none. A custom domain or an
// address may be either.
func CheckCloudBox(host, id string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	box := strings.HasSuffix(h, cloudBoxDataSuffix) || strings.HasSuffix(h, cloudBoxControlSuffix)
	named, _, _ := strings.Cut(h, ".")
	if strings.Count(h, ".") != 4 || !strings.HasPrefix(named, "cb-") {
		named = "" // not cb-<id>.<region>.oss-cloudbox[-control].aliyuncs.com
	}
	switch {
	case box && id == "":
		hint := "the CloudBox's id"
		if named != "" {
			hint = quote(named)
		}
		return fmt.Errorf("%w: endpoint %s is an OSS on CloudBox endpoint, which accepts only URLs signed for the CloudBox: set cloudbox_id to %s",
			ErrNoCloudBoxID, quote(host), hint)
	case box && named != "" && named != id:
		return fmt.Errorf("endpoint %s is CloudBox %s's, not cloudbox_id %s's", quote(host), quote(named), quote(id))
	case !box && id != "" && strings.HasSuffix(h, ".aliyuncs.com") && (strings.HasPrefix(h, "oss-") || strings.Contains(h, ".oss-")):
		return fmt.Errorf("endpoint %s is a public OSS endpoint, which refuses URLs signed for CloudBox %s: give the CloudBox's endpoint, or none for its data endpoint",
			quote(host), quote(id))
	}
	return nil
}

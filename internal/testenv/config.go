package testenv

import "fmt"

// SourceTOML returns the [source] and [sts] tables of a daemon config that
// assumes roles with the test source key at the local STS at endpoint (see
// StartSTS).
func SourceTOML(endpoint string) string {
	return fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret = %q
[sts]
region = "cn-hangzhou"
endpoint = %q
`, KeyID, KeySecret, endpoint)
}

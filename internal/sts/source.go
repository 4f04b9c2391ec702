package sts

import (
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// SourceErrorCode is the code of an [ossd.STSError] for a failure to get
// the source credential, before any request reached STS.
const SourceErrorCode = "ossd.SourceError"

// SourceError is a failure of the source credential provider: the SDK
// signs AssumeRole with it and returns its error as if the request had
// failed. Error names the source, as [source] type calls it, and what went
// wrong, never the provider's own text, which may quote files or URLs.
type SourceError struct {
	Source string // access_key, ecs_ram_role, oidc, default, or the SDK provider's name
	Kind   string // transport kind of the cause, as for AssumeRole failures
}

// Error returns e.g. "source default: no credentials found in the chain
// (environment, OIDC, aliyun CLI profile, ...)".
func (e *SourceError) Error() string {
	msg := map[string]string{
		"default": "no credentials found in the chain (environment variables, OIDC, aliyun CLI profile, " +
			"~/.alibabacloud/credentials, ECS metadata, credentials URI)",
		"ecs_ram_role": "no credentials from the ECS metadata service (100.100.100.200): not on ECS, " +
			"no RAM role attached to the instance, or the metadata service unreachable (" + e.Kind + ")",
		"oidc":       "the OIDC token could not be exchanged for credentials (" + e.Kind + "): check oidc_token_file, oidc_provider_arn and oidc_role_arn",
		"access_key": "the access key is incomplete",
	}[e.Source]
	if msg == "" {
		msg = "no credentials (" + e.Kind + ")"
	}
	return "source " + e.Source + ": " + msg
}

// sourceNames maps the SDK's provider names to [source] types.
var sourceNames = map[string]string{
	"default": "default", "ecs_ram_role": "ecs_ram_role", "oidc_role_arn": "oidc", "static_ak": "access_key",
}

// sourceProvider marks the errors of the provider it wraps as
// *SourceError, so that [Sanitize] names the source, not the network.
type sourceProvider struct {
	credentials.CredentialsProvider
}

func (p sourceProvider) GetCredentials() (*credentials.Credentials, error) {
	c, err := p.CredentialsProvider.GetCredentials()
	if err != nil {
		name := p.GetProviderName()
		if n, ok := sourceNames[name]; ok {
			name = n
		}
		return nil, &SourceError{Source: name, Kind: transportKind(err)}
	}
	return c, nil
}

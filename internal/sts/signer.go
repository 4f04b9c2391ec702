package sts

import (
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
)

// conn is one SDK client of the pool and the provider that signs its
// calls.
type conn struct {
	sdk    *stssdk.Client
	signer *signer
}

// signer is the credentials provider of one pooled SDK client. The SDK asks
// it for credentials as it signs each request: the source credential, or,
// for a chained call, the STS credentials the borrower set in by. Only the
// goroutine that holds the conn touches by.
type signer struct {
	source credentials.CredentialsProvider
	by     credentials.CredentialsProvider // nil: sign with source
}

// GetCredentials returns the credentials to sign the current call with.
func (s *signer) GetCredentials() (*credentials.Credentials, error) {
	if s.by != nil {
		return s.by.GetCredentials()
	}
	return s.source.GetCredentials()
}

// GetProviderName names the provider in use, as the SDK reports it.
func (s *signer) GetProviderName() string {
	if s.by != nil {
		return s.by.GetProviderName()
	}
	return s.source.GetProviderName()
}

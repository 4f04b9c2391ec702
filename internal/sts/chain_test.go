package sts_test

import (
	"context"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/sts"
)

// TestFetchWith: a chained call is signed with the parent session's STS key
// and carries its SecurityToken; the next call on the same pooled client is
// signed with the source credential again.
func TestFetchWith(t *testing.T) {
	_, s, endpoint := setup(t, nil)
	c, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: endpoint, Timeout: 30 * time.Second, Conns: 1,
		Source: credentials.NewStaticAKCredentialsProvider("LTAIsource", "source-secret")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	parent, err := c.Fetch(ctx, params(s))
	if err != nil {
		t.Fatal(err)
	}
	child := params(s)
	child.SessionName = "ossd-child"
	got, err := c.FetchWith(ctx, parent, child)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Fetch(ctx, params(s))
	if err != nil {
		t.Fatal(err)
	}
	log, issued := s.CallLog(), s.Issued()
	for i, want := range []string{"LTAIsource", parent.AccessKeyID, "LTAIsource"} {
		if log[i].SignedBy != want || issued[i].SignedBy != want {
			t.Errorf("call %d signed by %q (issued %q), want %q", i, log[i].SignedBy, issued[i].SignedBy, want)
		}
	}
	if tok := log[1].Params.Get("SecurityToken"); tok != parent.SecurityToken.Reveal() {
		t.Error("the chained call did not carry the parent's SecurityToken")
	}
	if log[2].Params.Has("SecurityToken") {
		t.Error("a source-signed call after a chained one carried a SecurityToken")
	}
	if got.AccessKeyID != issued[1].AccessKeyID || again.AccessKeyID != issued[2].AccessKeyID {
		t.Errorf("FetchWith = %s, Fetch = %s; issued %s, %s", got.AccessKeyID, again.AccessKeyID, issued[1].AccessKeyID, issued[2].AccessKeyID)
	}
}

// TestFetchWithRefused: a parent token the STS does not take is an STS
// error that quotes neither the token nor the secret.
func TestFetchWithRefused(t *testing.T) {
	c, s, _ := setup(t, credentials.NewStaticAKCredentialsProvider("LTAIsource", "source-secret"))
	ctx := context.Background()
	parent, err := c.Fetch(ctx, params(s))
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Fetch(ctx, params(s))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   ossd.Credentials
		code string
	}{
		{"another session's token", ossd.Credentials{AccessKeyID: parent.AccessKeyID, AccessKeySecret: parent.AccessKeySecret, SecurityToken: other.SecurityToken}, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"wrong secret", ossd.Credentials{AccessKeyID: parent.AccessKeyID, AccessKeySecret: "wrong", SecurityToken: parent.SecurityToken}, "SignatureDoesNotMatch"},
		{"no token", ossd.Credentials{AccessKeyID: parent.AccessKeyID, AccessKeySecret: parent.AccessKeySecret}, "ossd.NoSigner"},
	}
	for _, tc := range tests {
		_, err := c.FetchWith(ctx, tc.by, params(s))
		if code := ossd.ErrorCode(err); code != tc.code {
			t.Errorf("%s: code %q (err %v), want %q", tc.name, code, err, tc.code)
			continue
		}
		logtest.NoSecrets(t, "error", err.Error(), parent.SecurityToken.Reveal(), other.SecurityToken.Reveal(), parent.AccessKeySecret.Reveal())
	}
}

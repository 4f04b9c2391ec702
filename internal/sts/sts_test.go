package sts_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/sts"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T, src credentials.CredentialsProvider) (*sts.Client, *localsts.Server, string) {
	t.Helper()
	clk := clock.NewFake(epoch)
	s := localsts.New(localsts.Config{Clock: clk})
	s.AddAccessKey("LTAIsource", "source-secret")
	s.AddRole(s.RoleARN("reader"), 12*time.Hour)
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1") // must be ignored for a loopback STS
	c, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: endpoint, Timeout: 30 * time.Second, Source: src, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return c, s, endpoint
}

func params(s *localsts.Server) ossd.Params {
	return ossd.Params{RoleARN: s.RoleARN("reader"), SessionName: "ossd-reader", Duration: time.Hour,
		Policy: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`, ExternalID: "ext-1"}
}

func TestFetch(t *testing.T) {
	c, s, _ := setup(t, credentials.NewStaticAKCredentialsProvider("LTAIsource", "source-secret"))
	got, err := c.Fetch(context.Background(), params(s))
	if err != nil {
		t.Fatal(err)
	}
	is := s.Issued()[0]
	want := ossd.Credentials{AccessKeyID: is.AccessKeyID, AccessKeySecret: ossd.Secret(is.AccessKeySecret),
		SecurityToken: ossd.NewToken(is.SecurityToken), Expiration: epoch.Add(time.Hour), LastUpdated: epoch,
		ServerTime: epoch} // the local STS's Date, by its clock
	if got != want {
		t.Errorf("Fetch = %#v, want %#v", got, want)
	}
	call := s.CallLog()[0].Params
	for k, v := range map[string]string{"DurationSeconds": "3600", "RoleSessionName": "ossd-reader", "ExternalId": "ext-1", "Policy": params(s).Policy} {
		if call.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, call.Get(k), v)
		}
	}
}

// TestErrorsCarryNoSecrets drives the SDK into each kind of error and checks
// that the sanitised error names its code and holds no secret: the SDK's
// transport errors quote the whole signed URL.
func TestErrorsCarryNoSecrets(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		fault  *localsts.Fault
		code   string
	}{
		{"wrong secret", "wrong-secret", nil, "SignatureDoesNotMatch"},
		{"throttling", "source-secret", &localsts.Fault{Code: "Throttling.User"}, "Throttling.User"},
		{"5xx", "source-secret", &localsts.Fault{Code: "InternalError"}, "InternalError"},
		{"reset", "source-secret", &localsts.Fault{Reset: true}, "ossd.TransportError"},
		{"malformed", "source-secret", &localsts.Fault{Malformed: true}, "SDK.JsonUnmarshalError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s, _ := setup(t, credentials.NewStaticAKCredentialsProvider("LTAIsource", tc.secret))
			if tc.fault != nil {
				s.SetFault(*tc.fault)
			}
			_, err := c.Fetch(context.Background(), params(s))
			if code := ossd.ErrorCode(err); code != tc.code {
				t.Errorf("code = %q, want %q (err %v)", code, tc.code, err)
			}
			msg := err.Error()
			logtest.NoSecrets(t, "error", msg, tc.secret, "Signature=", "SignatureNonce", "LTAIsource")
			if strings.Contains(msg, "\n") {
				t.Errorf("multi-line error %q", msg)
			}
		})
	}
}

// TestSTSSourceTokenNotQuoted uses an STS token issued by the local STS as
// the source (role chaining). A wrong secret makes the server quote the
// string to sign, SecurityToken included; the error must not.
func TestSTSSourceTokenNotQuoted(t *testing.T) {
	c0, s, endpoint := setup(t, credentials.NewStaticAKCredentialsProvider("LTAIsource", "source-secret"))
	first, err := c0.Fetch(context.Background(), params(s))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: endpoint, Timeout: 30 * time.Second,
		Source: credentials.NewStaticSTSCredentialsProvider(first.AccessKeyID, "wrong", first.SecurityToken.Reveal())})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Fetch(context.Background(), params(s))
	if ossd.ErrorCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("err = %v", err)
	}
	logtest.NoSecrets(t, "error", err.Error(), first.SecurityToken.Reveal())
}

func TestBadEndpoint(t *testing.T) {
	for _, ep := range []string{"", "sts.aliyuncs.com", "ftp://x", "http://"} {
		if _, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: ep}); err == nil {
			t.Errorf("New(endpoint %q) succeeded", ep)
		}
	}
}

// TestSourceFailureNamesTheSource: with the default chain finding nothing,
// the error names the source, not a network error of AssumeRole.
func TestSourceFailureNamesTheSource(t *testing.T) {
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
		"ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CONFIG_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	// Never ask the real metadata address from the machine's namespace.
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	c, s, _ := setup(t, credentials.NewDefaultCredentialsProvider())
	_, err := c.Fetch(context.Background(), params(s))
	if err == nil {
		t.Fatal("Fetch with an empty chain succeeded")
	}
	if got := ossd.ErrorCode(err); got != sts.SourceErrorCode {
		t.Errorf("code = %q, want %q (err %v)", got, sts.SourceErrorCode, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "source default: no credentials found in the chain") || strings.Contains(msg, "TransportError") || strings.Contains(msg, "network error") {
		t.Errorf("error = %q, want it to name the source", msg)
	}
	if calls := s.Calls(); calls != 0 {
		t.Errorf("STS calls = %d, want 0: the request never had credentials", calls)
	}
}

// TestOversizedCredentialsRefused: an answer whose credentials are far
// larger than STS's (a token is about 1.2 KB) is refused with a clear error
// that quotes none of it. A cached session
// keeps its fields' lengths in 32 bits; this bound is what keeps any answer
// inside them.
func TestOversizedCredentialsRefused(t *testing.T) {
	big := strings.Repeat("QUJD", 20<<10) // 80 KiB of canonical base64
	for name, fields := range map[string][3]string{
		"token":  {"STS.id", "secret", big},
		"secret": {"STS.id", big, "CAIS"},
		"key id": {"STS." + big, "secret", "CAIS"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"RequestId":"r","Credentials":{"AccessKeyId":%q,"AccessKeySecret":%q,"SecurityToken":%q,"Expiration":"2030-01-01T01:00:00Z"}}`,
				fields[0], fields[1], fields[2])
		}))
		c, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: srv.URL, Timeout: 30 * time.Second,
			Source: credentials.NewStaticAKCredentialsProvider("LTAIsource", "source-secret"), Clock: clock.NewFake(epoch)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Fetch(context.Background(), ossd.Params{RoleARN: "acs:ram::1:role/r", SessionName: "s", Duration: time.Hour})
		srv.Close()
		var se *ossd.STSError
		if !errors.As(err, &se) || se.Code != "ossd.BadResponse" || !strings.Contains(err.Error(), "larger") {
			t.Errorf("%s of %d bytes: Fetch gave a key id of %d bytes, error %.120v; want ossd.BadResponse", name, len(big), len(got.AccessKeyID), err)
		}
		if err != nil && strings.Contains(err.Error(), big[:16]) {
			t.Errorf("%s: the error quotes the answer: %.80s", name, err)
		}
	}
}

package localsts

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/ossd/ossd/internal/clock"
)

const (
	srcID     = "LTAI5tLocalStsTestKey01"
	srcSecret = "localStsTestSecret0123456789abcd"
	roleName  = "ossd-test"
	shortRole = "ossd-short" // MaxSessionDuration 1h
)

// t0 is the issue clock's start in tests.
func t0() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }

type env struct {
	srv  *Server
	clk  *clock.Fake // Config.Clock, unless the test passed its own
	host string      // 127.0.0.1:PORT
	role string      // ARN of roleName, max 12h
}

// newEnv starts a Server with one source key and two roles.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{}
	if cfg.Clock == nil {
		e.clk = clock.NewFake(t0())
		cfg.Clock = e.clk
	}
	e.srv = New(cfg)
	e.srv.AddAccessKey(srcID, srcSecret)
	e.role = e.srv.RoleARN(roleName)
	e.srv.AddRole(e.role, 12*time.Hour)
	e.srv.AddRole(e.srv.RoleARN(shortRole), time.Hour)
	ep, err := e.srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	e.host = strings.TrimPrefix(ep, "http://")
	return e
}

// client returns a real SDK client signing with id/secret (and token, for
// an STS key), bypassing any proxy from the environment.
func (e *env) client(t *testing.T, id, secret, token string) *sts.Client {
	t.Helper()
	var prov credentials.CredentialsProvider = credentials.NewStaticAKCredentialsProvider(id, secret)
	if token != "" {
		prov = credentials.NewStaticSTSCredentialsProvider(id, secret, token)
	}
	c, err := sts.NewClientWithOptions("cn-hangzhou", sdk.NewConfig(), prov)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = e.host
	c.SetNoProxy(regexp.QuoteMeta(e.host))
	return c
}

func (e *env) src(t *testing.T) *sts.Client { return e.client(t, srcID, srcSecret, "") }

type assumeOpts struct {
	role, session      string
	duration           string // DurationSeconds as sent; "" leaves it out
	policy, externalID string
}

func assume(c *sts.Client, o assumeOpts) (*sts.AssumeRoleResponse, error) {
	req := sts.CreateAssumeRoleRequest()
	req.Scheme = "http"
	req.RoleArn = o.role
	req.RoleSessionName = o.session
	req.DurationSeconds = requests.Integer(o.duration)
	req.Policy = o.policy
	req.ExternalId = o.externalID
	return c.AssumeRole(req)
}

func (e *env) opts() assumeOpts {
	return assumeOpts{role: e.role, session: "alice", duration: "3600"}
}

func mustAssume(t *testing.T, c *sts.Client, o assumeOpts) *sts.AssumeRoleResponse {
	t.Helper()
	resp, err := assume(c, o)
	if err != nil {
		t.Fatalf("AssumeRole(%+v): %v", o, err)
	}
	return resp
}

// serverError asserts that err is an STS error answer with status and code.
func serverError(t *testing.T, err error, status int, code string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *errors.ServerError %s", err, err, code)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("error = %d %s (%s), want %d %s", se.HttpStatus(), se.ErrorCode(), se.Message(), status, code)
	}
	if se.RequestId() == "" || se.HostId() != "sts.aliyuncs.com" {
		t.Errorf("RequestId %q, HostId %q: want set, sts.aliyuncs.com", se.RequestId(), se.HostId())
	}
	return se
}

func TestAssumeRoleSuccess(t *testing.T) {
	e := newEnv(t, Config{})
	resp := mustAssume(t, e.src(t), e.opts())

	checkMatch(t, "RequestId", resp.RequestId, `^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	if want := "acs:ram::1234567890123456:role/ossd-test/alice"; resp.AssumedRoleUser.Arn != want {
		t.Errorf("Arn = %q, want %q", resp.AssumedRoleUser.Arn, want)
	}
	checkMatch(t, "AssumedRoleId", resp.AssumedRoleUser.AssumedRoleId, `^3[0-9]{17}:alice$`)
	cr := resp.Credentials
	checkMatch(t, "AccessKeyId", cr.AccessKeyId, `^STS\.[A-Za-z0-9]{28}$`)
	checkMatch(t, "AccessKeySecret", cr.AccessKeySecret, `^[A-Za-z0-9]{44}$`)
	checkMatch(t, "SecurityToken", cr.SecurityToken, `^CAIS[A-Za-z0-9+/=]+$`)
	if len(cr.SecurityToken) < 1200 {
		t.Errorf("SecurityToken is %d characters, want real-sized (1200+)", len(cr.SecurityToken))
	}
	if want := "2030-01-02T04:04:05Z"; cr.Expiration != want {
		t.Errorf("Expiration = %q, want %q", cr.Expiration, want)
	}

	want := Issued{AccessKeyID: cr.AccessKeyId, AccessKeySecret: cr.AccessKeySecret,
		SecurityToken: cr.SecurityToken, Expiration: t0().Add(time.Hour),
		RoleArn: e.role, SessionName: "alice", SignedBy: srcID}
	if got := e.srv.Issued(); len(got) != 1 || got[0] != want {
		t.Errorf("Issued() = %+v, want [%+v]", got, want)
	}
	if c, s := e.srv.Calls(), e.srv.Successes(); c != 1 || s != 1 {
		t.Errorf("Calls, Successes = %d, %d; want 1, 1", c, s)
	}

	second := mustAssume(t, e.src(t), e.opts())
	if second.Credentials.AccessKeyId == cr.AccessKeyId || second.Credentials.AccessKeySecret == cr.AccessKeySecret ||
		second.Credentials.SecurityToken == cr.SecurityToken {
		t.Error("second AssumeRole returned a repeated secret")
	}
	if second.AssumedRoleUser.AssumedRoleId != resp.AssumedRoleUser.AssumedRoleId {
		t.Errorf("AssumedRoleId changed: %q then %q", resp.AssumedRoleUser.AssumedRoleId, second.AssumedRoleUser.AssumedRoleId)
	}
}

func checkMatch(t *testing.T, what, got, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(got) {
		t.Errorf("%s = %q, want match for %s", what, got, re)
	}
}

func TestCallLog(t *testing.T) {
	e := newEnv(t, Config{})
	mustAssume(t, e.src(t), e.opts())
	e.clk.Advance(time.Minute)
	_, err := assume(e.src(t), assumeOpts{role: e.role, session: "x"})
	serverError(t, err, 400, "InvalidParameter.RoleSessionName")

	log := e.srv.CallLog()
	if len(log) != 2 {
		t.Fatalf("CallLog has %d entries, want 2", len(log))
	}
	ok, bad := log[0], log[1]
	if !ok.At.Equal(t0()) || ok.Status != 200 || ok.Code != "" {
		t.Errorf("first call = %v %d %q, want %v 200 \"\"", ok.At, ok.Status, ok.Code, t0())
	}
	if !bad.At.Equal(t0().Add(time.Minute)) || bad.Status != 400 || bad.Code != "InvalidParameter.RoleSessionName" {
		t.Errorf("second call = %v %d %q", bad.At, bad.Status, bad.Code)
	}
	p := ok.Params
	if p.Has("Signature") {
		t.Error("CallLog kept Signature")
	}
	// What the SDK really sends: Format=JSON, an empty SignatureType, RegionId.
	for k, want := range map[string]string{"Format": "JSON", "SignatureType": "", "RegionId": "cn-hangzhou",
		"RoleArn": e.role, "AccessKeyId": srcID, "DurationSeconds": "3600", "SignatureVersion": "1.0"} {
		if got, has := p[k]; !has || got[0] != want {
			t.Errorf("Params[%s] = %q (present %v), want %q", k, got, has, want)
		}
	}
	log[0].Params.Set("RoleArn", "changed")
	if e.srv.CallLog()[0].Params.Get("RoleArn") != e.role {
		t.Error("CallLog returned shared Params")
	}
}

func TestAssumeRoleParameters(t *testing.T) {
	e := newEnv(t, Config{})
	long := func(n int) string { return strings.Repeat("a", n) }
	okPolicy := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":["acs:oss:*:*:b~x/ é"]}]}`
	tests := []struct {
		name   string
		mod    func(*assumeOpts)
		status int    // 200 for success
		code   string // want error code
		expiry time.Duration
	}{
		{"default duration", func(o *assumeOpts) { o.duration = "" }, 200, "", time.Hour},
		{"min duration", func(o *assumeOpts) { o.duration = "900" }, 200, "", 15 * time.Minute},
		{"role max duration", func(o *assumeOpts) { o.duration = "43200" }, 200, "", 12 * time.Hour},
		{"policy and external id", func(o *assumeOpts) { o.policy, o.externalID = okPolicy, "ext+=,.@:/-_1" }, 200, "", time.Hour},
		{"session charset", func(o *assumeOpts) { o.session = "a.b@c_d-E9" }, 200, "", time.Hour},
		{"session 64", func(o *assumeOpts) { o.session = long(64) }, 200, "", time.Hour},
		{"unknown role", func(o *assumeOpts) { o.role = e.srv.RoleARN("nobody") }, 404, "EntityNotExist.Role", 0},
		{"aws arn", func(o *assumeOpts) { o.role = "arn:aws:iam::1:role/x" }, 400, "InvalidParameter.RoleArn", 0},
		{"account not digits", func(o *assumeOpts) { o.role = "acs:ram::12a:role/x" }, 400, "InvalidParameter.RoleArn", 0},
		{"no role", func(o *assumeOpts) { o.role = "" }, 400, "MissingRoleArn", 0},
		{"no session", func(o *assumeOpts) { o.session = "" }, 400, "MissingRoleSessionName", 0},
		{"session short", func(o *assumeOpts) { o.session = "a" }, 400, "InvalidParameter.RoleSessionName", 0},
		{"session space", func(o *assumeOpts) { o.session = "a b" }, 400, "InvalidParameter.RoleSessionName", 0},
		{"session 65", func(o *assumeOpts) { o.session = long(65) }, 400, "InvalidParameter.RoleSessionName", 0},
		{"session unicode", func(o *assumeOpts) { o.session = "né" }, 400, "InvalidParameter.RoleSessionName", 0},
		{"duration 899", func(o *assumeOpts) { o.duration = "899" }, 400, "InvalidParameter.DurationSeconds", 0},
		{"duration over max", func(o *assumeOpts) { o.duration = "43201" }, 400, "InvalidParameter.DurationSeconds", 0},
		{"duration over short role", func(o *assumeOpts) { o.role, o.duration = e.srv.RoleARN(shortRole), "3601" },
			400, "InvalidParameter.DurationSeconds", 0},
		{"duration text", func(o *assumeOpts) { o.duration = "1h" }, 400, "InvalidParameter.DurationSeconds", 0},
		{"duration huge", func(o *assumeOpts) { o.duration = "9223372036854775" }, 400, "InvalidParameter.DurationSeconds", 0},
		{"policy not json", func(o *assumeOpts) { o.policy = "{" }, 400, "InvalidParameter.PolicyGrammar", 0},
		{"policy version 2", func(o *assumeOpts) { o.policy = strings.Replace(okPolicy, `"1"`, `"2"`, 1) }, 400, "InvalidParameter.PolicyGrammar", 0},
		{"policy no statement", func(o *assumeOpts) { o.policy = `{"Version":"1","Statement":[]}` }, 400, "InvalidParameter.PolicyGrammar", 0},
		{"policy 2048", func(o *assumeOpts) { o.policy = policyOfLen(2048) }, 200, "", time.Hour},
		{"policy 2049", func(o *assumeOpts) { o.policy = policyOfLen(2049) }, 400, "InvalidParameter.PolicyGrammar", 0},
		{"external id short", func(o *assumeOpts) { o.externalID = "a" }, 400, "InvalidParameter.ExternalId", 0},
		{"external id long", func(o *assumeOpts) { o.externalID = long(1225) }, 400, "InvalidParameter.ExternalId", 0},
		{"external id space", func(o *assumeOpts) { o.externalID = "a b" }, 400, "InvalidParameter.ExternalId", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts()
			tc.mod(&o)
			before := e.srv.Successes()
			resp, err := assume(e.src(t), o)
			if tc.status == 200 {
				if err != nil {
					t.Fatalf("AssumeRole: %v", err)
				}
				if want := e.clk.Now().Add(tc.expiry).Format(timeLayout); resp.Credentials.Expiration != want {
					t.Errorf("Expiration = %s, want %s", resp.Credentials.Expiration, want)
				}
				return
			}
			se := serverError(t, err, tc.status, tc.code)
			if want := "https://api.aliyun.com/troubleshoot?q=" + tc.code; se.Recommend() != want {
				t.Errorf("Recommend = %q, want %q", se.Recommend(), want)
			}
			if e.srv.Successes() != before {
				t.Error("a refused request counted as a success")
			}
		})
	}
}

// policyOfLen returns a valid policy n characters long.
func policyOfLen(n int) string {
	const pre, post = `{"Version":"1","Statement":[{"Effect":"Allow","Sid":"`, `"}]}`
	return pre + strings.Repeat("s", n-len(pre)-len(post)) + post
}

func TestGatewayErrors(t *testing.T) {
	e := newEnv(t, Config{})
	_, err := assume(e.client(t, srcID, "wrong-secret", ""), e.opts())
	se := serverError(t, err, 400, "SignatureDoesNotMatch")
	// The SDK compares our string-to-sign with its own: equal means only
	// the secret differs, which proves the server signs exactly as the SDK.
	if want := "InvalidAccessKeySecret: Please check you AccessKeySecret"; se.Recommend() != want {
		t.Errorf("Recommend = %q, want %q (server string to sign differs from the SDK's)", se.Recommend(), want)
	}
	if strings.Contains(se.Message(), "wrong-secret") || strings.Contains(se.Message(), srcSecret) {
		t.Errorf("message echoes a secret: %s", se.Message())
	}

	_, err = assume(e.client(t, "LTAIunknown", srcSecret, ""), e.opts())
	serverError(t, err, 404, "InvalidAccessKeyId.NotFound")

	_, err = assume(e.client(t, "STS.notissued", srcSecret, "CAIStoken"), e.opts())
	serverError(t, err, 404, "InvalidAccessKeyId.NotFound")
}

func TestSkew(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		skew time.Duration
		ok   bool
	}{{20 * time.Minute, false}, {-20 * time.Minute, false}, {14 * time.Minute, true}, {-14 * time.Minute, true}, {0, true}} {
		e.srv.SetSkew(tc.skew)
		_, err := assume(e.src(t), e.opts())
		if tc.ok {
			if err != nil {
				t.Errorf("skew %v: %v", tc.skew, err)
			}
			continue
		}
		serverError(t, err, 400, "InvalidTimeStamp.Expired")
	}
}

func TestTokenLifetime(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		lifetime time.Duration
		duration string
		want     time.Duration
	}{
		{5 * time.Minute, "3600", 5 * time.Minute},
		{20 * time.Minute, "900", 15 * time.Minute},
		{0, "3600", time.Hour},
	} {
		e.srv.SetTokenLifetime(tc.lifetime)
		o := e.opts()
		o.duration = tc.duration
		resp := mustAssume(t, e.src(t), o)
		if want := t0().Add(tc.want).Format(timeLayout); resp.Credentials.Expiration != want {
			t.Errorf("lifetime %v, duration %s: Expiration = %s, want %s", tc.lifetime, tc.duration, resp.Credentials.Expiration, want)
		}
	}
}

func TestRoleChaining(t *testing.T) {
	// The SDK stamps real time, so the gateway clock starts at real time.
	clk := clock.NewFake(clock.Real{}.Now())
	e := newEnv(t, Config{Clock: clk, GatewayClock: clk})
	e.srv.SetTokenLifetime(10 * time.Minute)
	cr := mustAssume(t, e.src(t), e.opts()).Credentials

	o := e.opts()
	o.session = "chained"
	mustAssume(t, e.client(t, cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken), o)
	got := e.srv.Issued()
	if len(got) != 2 || got[1].SessionName != "chained" {
		t.Fatalf("Issued() = %+v, want a second, chained token", got)
	}
	if got[0].SignedBy != srcID || got[1].SignedBy != cr.AccessKeyId {
		t.Errorf("SignedBy = %q, %q; want the source key, then the first token's key", got[0].SignedBy, got[1].SignedBy)
	}
	if log := e.srv.CallLog(); log[1].SignedBy != cr.AccessKeyId || log[1].Params.Get("SecurityToken") != cr.SecurityToken {
		t.Errorf("call log: SignedBy %q, SecurityToken sent %v", log[1].SignedBy, log[1].Params.Get("SecurityToken") == cr.SecurityToken)
	}

	// STS caps chained sessions at 1h, whatever the role allows.
	o.duration = "3601"
	_, err := assume(e.client(t, cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken), o)
	serverError(t, err, 400, "InvalidParameter.DurationSeconds")
	o.duration = "3600"

	_, err = assume(e.client(t, cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken+"x"), o)
	serverError(t, err, 400, "InvalidSecurityToken.MismatchWithAccessKey")
	// Another token this server issued is not this key's token.
	other := got[1]
	_, err = assume(e.client(t, cr.AccessKeyId, cr.AccessKeySecret, other.SecurityToken), o)
	serverError(t, err, 400, "InvalidSecurityToken.MismatchWithAccessKey")
	_, err = assume(e.client(t, cr.AccessKeyId, cr.AccessKeySecret, ""), o)
	serverError(t, err, 400, "MissingSecurityToken")
	_, err = assume(e.client(t, cr.AccessKeyId, "wrong-secret", cr.SecurityToken), o)
	serverError(t, err, 400, "SignatureDoesNotMatch")
	log := e.srv.CallLog()
	if log[2].SignedBy != cr.AccessKeyId { // signed correctly, refused for its duration
		t.Errorf("call %s: SignedBy = %q, want %q", log[2].Code, log[2].SignedBy, cr.AccessKeyId)
	}
	for _, c := range log[3:] {
		if c.SignedBy != "" {
			t.Errorf("call refused by the gateway (%s) recorded as signed by %q", c.Code, c.SignedBy)
		}
	}

	clk.Advance(10*time.Minute + time.Second) // past expiry, inside the timestamp window
	_, err = assume(e.client(t, cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken), o)
	serverError(t, err, 400, "InvalidSecurityToken.Expired")
}
